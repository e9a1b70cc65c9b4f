#!/bin/sh
# bench-create: time `swarmdrop create` against `mktorrent -t 2` on a 1 GiB
# file read from the page cache, at the same piece length (1 MiB), runs
# interleaved; prints both medians and the ratio (goal: <= 0.8).
#   scripts/bench-create.sh [RUNS]
set -eu
runs=${1:-5}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/swarmdrop-bench}
mkdir -p "$dir"
export PATH="$PATH:/usr/local/go/bin"
command -v mktorrent >/dev/null || { echo "mktorrent missing: make deps" >&2; exit 1; }
go build -tags nogui -o "$dir/swarmdrop" .
in="$dir/1GiB.bin"
if [ ! -f "$in" ] || [ "$(stat -c %s "$in")" != 1073741824 ]; then
	echo "making $in (once)"
	head -c 1073741824 /dev/urandom >"$in.tmp" && mv "$in.tmp" "$in"
fi
cat "$in" >/dev/null # into the page cache
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: >"$dir/sd.times"; : >"$dir/mk.times"
i=0
while [ "$i" -lt "$runs" ]; do
	t0=$(now)
	"$dir/swarmdrop" create --quiet --nodes 127.0.0.1:6881 --piece-length 1M -o "$dir/sd.torrent" --force "$in" >/dev/null
	t1=$(now)
	rm -f "$dir/mk.torrent"
	mktorrent -t 2 -l 20 -o "$dir/mk.torrent" "$in" >/dev/null
	t2=$(now)
	awk "BEGIN{print $t1 - $t0}" >>"$dir/sd.times"
	awk "BEGIN{print $t2 - $t1}" >>"$dir/mk.times"
	i=$((i + 1))
done
sd=$(median <"$dir/sd.times")
mk=$(median <"$dir/mk.times")
printf 'create 1 GiB, piece 1 MiB, %d runs each, interleaved\n' "$runs"
printf '  swarmdrop create : median %.3f s\n' "$sd"
printf '  mktorrent -t 2   : median %.3f s\n' "$mk"
printf '  ratio swarmdrop/mktorrent: %.2f (goal <= 0.80)\n' "$(awk "BEGIN{print $sd / $mk}")"
