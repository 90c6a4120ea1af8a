# Hearth: a Matrix homeserver for small boxes. See README.md.
GO        ?= go
FUZZTIME  ?= 20s
BIN       := bin/hearth
PKGS      := ./...

.PHONY: all build run test unit vet fmt-check fuzz bench bench-quick gobench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./appliance/hearth

run: build
	./$(BIN) run

# test: everything CI runs. Unit and integration tests, then a short run of
# every fuzz target.
test: fmt-check vet unit fuzz

unit:
	$(GO) test -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# fuzz: each Fuzz target for FUZZTIME (see .ci/fuzz.sh for how a real
# finding is told apart from the Go 1.26 fuzz-engine deadline race).
fuzz:
	bash .ci/fuzz.sh $(FUZZTIME)

# bench: the load suite (services/bench) against a Hearth it builds and
# starts: a table on stdout, a JSON file in bench-results/, data sets kept
# in bench-results/data for the next run. BENCHFLAGS adds flags, e.g.
# BENCHFLAGS='-url http://host:8008 -shared-secret S' (see README).
BENCHFLAGS ?=
bench:
	$(GO) run ./appliance/hearthbench $(BENCHFLAGS)

# bench-quick: the reduced suite (about a minute).
bench-quick:
	$(GO) run ./appliance/hearthbench -quick $(BENCHFLAGS)

# gobench: the Go micro-benchmarks of the services.
gobench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=2s ./services/...

clean:
	rm -rf bin
