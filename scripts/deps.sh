#!/bin/sh
# Installs the Debian/Ubuntu packages Swarmdrop needs, only those missing.
#   scripts/deps.sh build   what building the window needs (cgo, OpenGL, X11)
#   scripts/deps.sh test    that plus the real counterparts the tests run and
#                           the MinGW cross-compiler of `make cross`
# Uses sudo when not root. Idempotent: does nothing when all are present.
set -eu
build="gcc pkg-config libgl1-mesa-dev xorg-dev"
test="$build gcc-mingw-w64-x86-64 python3-libtorrent python3-xlib python3-cryptography mktorrent aria2 rtorrent transmission-daemon opentracker qbittorrent-nox miniupnpd miniupnpd-nftables nftables miniupnpc iproute2 xvfb imagemagick xdotool x11-utils xdg-utils desktop-file-utils libfile-mimeinfo-perl dbus-daemon dbus-bin"
case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends $missing
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	echo "Go is at /usr/local/go/bin: add it to PATH" >&2
fi
command -v go >/dev/null 2>&1 || { echo "Go 1.26 or newer is needed (https://go.dev/dl/); install it and run again" >&2; exit 1; }
