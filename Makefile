# Swarmdrop. `make run` starts the window; `make test` runs every test.
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
FUZZTIME ?= 20s

.PHONY: run test build deps deps-build vet cross fuzz bench-create bench-download bench-dht bench-swarm bench-hostile bench-utp bench-dhtsim bench-scale bench-scale-ui install uninstall clean

run: deps-build build
	./swarmdrop

build:
	$(GO) build -o swarmdrop .

deps-build:
	@scripts/deps.sh build

deps:
	@scripts/deps.sh test

vet:
	$(GO) vet ./...

test: deps vet
	$(GO) test -race -timeout 40m ./...

# cross builds for the other desktops (CI runs it after the tests): Windows
# and macOS without the window (-tags nogui, no cgo), and the Windows window
# with Debian's MinGW cross-compiler (gcc-mingw-w64-x86-64, installed by
# `make deps`). The macOS window needs Apple's SDK and is built on a Mac.
MINGW_CC ?= x86_64-w64-mingw32-gcc
cross: deps
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=darwin GOARCH=amd64 $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$(MINGW_CC) $(GO) build -o /dev/null .

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# RUNS is how many times each benchmark case runs (the median is printed).
RUNS ?= 3

# bench-create: swarmdrop create vs mktorrent -t 2 on a 1 GiB file (issue 3).
bench-create:
	@scripts/bench-create.sh $(RUNS)

# bench-download: 1 GiB on loopback, Swarmdrop vs libtorrent (issue 4).
bench-download:
	$(GO) run ./scripts/bench/download -runs $(RUNS)

# bench-dht: first peer and first piece through a 50-node libtorrent DHT (issue 5).
bench-dht:
	$(GO) run ./scripts/bench/dht -runs $(RUNS)

# bench-swarm: an emulated internet in network namespaces (long fat link,
# mixed swarm, flash crowd), Swarmdrop vs libtorrent (issue 17). Needs root;
# stops by itself within 15 minutes; writes bench-swarm.png. LEECHERS is the
# flash crowd's size (the issue's 20 by default).
# SWARM_FLAGS adds the program's flags (e.g. -cases mixed -lt-utp).
LEECHERS ?= 20
SWARM_FLAGS ?=
bench-swarm:
	$(GO) run ./scripts/bench/swarm -runs $(RUNS) -leechers $(LEECHERS) $(SWARM_FLAGS)

# bench-hostile: a seeder's memory, CPU and a real download next to each attack (issue 13).
bench-hostile:
	$(GO) run ./scripts/bench/hostile -runs $(RUNS)

# bench-utp: over uTP from a libtorrent seeder, Swarmdrop (the engine, and its uTP stack alone) vs libtorrent: 256 MiB on loopback,
# 8 MiB through an emulated 50 ms / 1 % loss link (needs root) (issue 16).
# UTP_FLAGS adds the program's flags (e.g. RUNS=7 UTP_FLAGS="-link an":
# the lossy link alone, whose single runs vary by 25 %).
UTP_FLAGS ?=
bench-utp:
	$(GO) run ./scripts/bench/utp -runs $(RUNS) $(UTP_FLAGS)

# bench-dhtsim: 10,000 of our DHT nodes on a simulated internet; lookups
# from fresh nodes vs an ideal Kademlia lookup (issue 17). It runs in
# virtual time (a synctest bubble: exact timings on a busy machine);
# `go run ./scripts/bench/dhtsim` runs it in real time. DHTSIM holds its
# flags, e.g. DHTSIM="-nodes 1000 -lookups 50" (about 30 s). It costs about
# 100 us of CPU per packet, 4 million packets for 10,000 nodes: on a busy
# machine the build stops after -build-time (8 min) with fewer nodes, and
# the report says so.
DHTSIM ?= -nodes 10000
bench-dhtsim:
	$(GO) test -run '^TestSimulation$$' -count=1 -timeout 30m -v ./scripts/bench/dhtsim -dhtsim="$(DHTSIM)"

# bench-scale: 1,000 small seeding torrents and one of 64 GiB (sparse) in
# one engine, restarted from its saved list and resume data: start time,
# RSS, idle CPU, goroutines and DHT traffic, next to libtorrent seeding
# the same torrents (issue 17). SCALE holds extra flags, e.g.
# SCALE="-torrents 200 -idle 20s".
SCALE ?=
bench-scale:
	$(GO) run ./scripts/bench/scale -runs $(RUNS) $(SCALE)

# bench-scale-ui: the window with 1,001 torrents (issue 17): ms to apply
# one engine snapshot (nothing changed, 50 rates changed, a name typed in
# the search, sorted by name and by upload rate, a row selected) and to
# move down by a page. Fyne's test driver: the window's work, no painting.
bench-scale-ui:
	$(GO) test -run '^$$' -bench 'ApplySnapshot|ScrollPage|PageDown|StatusBar' -benchtime=50x ./ui/

# install puts the program, its desktop entry, icons and metainfo under
# PREFIX and makes it the user's handler of .torrent files and magnet links
# (so `xdg-open some.torrent` starts Swarmdrop); uninstall undoes it.
PREFIX ?= $(HOME)/.local
APPID := org.swarmdrop.Swarmdrop
ICONSIZES := 16 32 48 64 128 256 512
datadir = $(PREFIX)/share
mimetypes := application/x-bittorrent x-scheme-handler/magnet

install: deps-build
	@for c in update-desktop-database:desktop-file-utils xdg-mime:xdg-utils; do \
		command -v $${c%%:*} >/dev/null || { echo "$${c%%:*} not found: install the Debian package $${c#*:}" >&2; exit 1; }; \
	done
	mkdir -p "$(PREFIX)/bin"
	$(GO) build -o "$(PREFIX)/bin/swarmdrop" .
	install -Dm644 packaging/$(APPID).desktop "$(datadir)/applications/$(APPID).desktop"
	install -Dm644 packaging/$(APPID).metainfo.xml "$(datadir)/metainfo/$(APPID).metainfo.xml"
	for s in $(ICONSIZES); do \
		install -Dm644 packaging/icons/hicolor/$${s}x$${s}/apps/$(APPID).png "$(datadir)/icons/hicolor/$${s}x$${s}/apps/$(APPID).png" || exit 1; \
	done
	install -Dm644 packaging/icons/hicolor/scalable/apps/$(APPID).svg "$(datadir)/icons/hicolor/scalable/apps/$(APPID).svg"
	if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -f -t "$(datadir)/icons/hicolor" || true; fi
	update-desktop-database "$(datadir)/applications"
	xdg-mime default $(APPID).desktop $(mimetypes)

uninstall:
	rm -f "$(PREFIX)/bin/swarmdrop" "$(datadir)/applications/$(APPID).desktop" "$(datadir)/metainfo/$(APPID).metainfo.xml"
	rm -f $(foreach s,$(ICONSIZES),"$(datadir)/icons/hicolor/$(s)x$(s)/apps/$(APPID).png") "$(datadir)/icons/hicolor/scalable/apps/$(APPID).svg"
	if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -f -t "$(datadir)/icons/hicolor" || true; fi
	if command -v update-desktop-database >/dev/null; then update-desktop-database "$(datadir)/applications" || true; fi
	@# Drop our default-handler lines (only ours) from the user's mimeapps.list.
	f="$${XDG_CONFIG_HOME:-$$HOME/.config}/mimeapps.list"; [ ! -f "$$f" ] || \
		sed -i -e '/^\(application\/x-bittorrent\|x-scheme-handler\/magnet\)=$(APPID)\.desktop;*$$/d' "$$f"

clean:
	rm -f swarmdrop
