# Swarmdrop. `make run` starts the window; `make test` runs every test.
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
FUZZTIME ?= 20s

.PHONY: run test build deps deps-build vet fuzz bench-create bench-download bench-dht install uninstall clean

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

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# RUNS is how many times each benchmark case runs (the median is printed).
RUNS ?= 3

# bench-download: 1 GiB on loopback, Swarmdrop vs libtorrent (issue 4).
bench-download:
	$(GO) run ./scripts/bench/download -runs $(RUNS)

# bench-dht: first peer and first piece through a 50-node libtorrent DHT (issue 5).
bench-dht:
	$(GO) run ./scripts/bench/dht -runs $(RUNS)

clean:
	rm -f swarmdrop
