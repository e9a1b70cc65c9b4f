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

clean:
	rm -f swarmdrop
