# Distill — two commands do everything on a fresh Debian machine with the Swift toolchain:
#   make demo   build, sign, verify and run the demo image from the embedded repository (offline)
#   make test   the whole test suite, installing what it needs
#   make bench  speed measurements beside the standard tools (not pass/fail)
#   make fuzz   libFuzzer + ASan on every parser (FUZZ_SECONDS per target, default 60; see scripts/fuzz.sh)
SWIFT ?= swift
RELEASE_BIN = .build/release/distill

.PHONY: all build release demo test test-tools bench fuzz deps clean

all: build

deps:
	@scripts/ensure-build-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Offline: builds distill (release), the demo keys (keys/, once), the embedded repository
# (build/demo-repo) and the signed image (build/demo-image), verifies it, runs it as uid 65532
# with runc or bwrap, and prints a summary. apt runs only for a missing tool (runc, umoci, skopeo, jq).
demo:
	@scripts/demo.sh

# The real tools the tests use as oracles (umoci, skopeo, oci-image-tool, docker-registry, runc,
# cosign, pyspdxtools, ntia-checker, syft, …), each installed only when missing.
test-tools:
	@scripts/oracles.sh ensure_all

test: deps test-tools
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Speed beside gzip, openssl and friends; prints ratios to bench/results/latest.txt, never fails on speed.
bench: deps
	scripts/bench.sh

# Fuzz targets for the gzip, tar, APKINDEX, .PKGINFO, .apk, dependency and config parsers, built
# in .build-fuzz (never in .build). FUZZ_TARGETS picks targets, FUZZ_PARALLEL=2 runs two at a time.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

clean:
	rm -rf .build .build-fuzz
