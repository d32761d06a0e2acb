#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets in Fuzz/ with ASan + libFuzzer and runs each for
# FUZZ_SECONDS, then prints per target the exec count and exec/s from libFuzzer's final stats.
# Fails (non-zero) when any target found a crash, a timeout, a sanitizer report or ran out of
# memory, leaving the path of the reproducing input in the output.
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   space-separated subset (default: all of them)
#   FUZZ_PARALLEL  targets run at the same time (default 1: this machine has 2 cores shared with
#                  other work; 2 runs two at a time and halves the wall time)
#   FUZZ_WORK      working directory (default .build-fuzz/work): the growing corpus of each target
#                  (corpus/<target>, kept between runs, never committed), the fixture-derived seeds
#                  (seeds/<target>), crash artifacts (artifacts/) and logs (logs/)
#   FUZZ_FLAGS     extra libFuzzer flags, e.g. "-jobs=1 -seed=1"
#   DISTILL_FIXTURES  the fixtures (default ../shared/fixtures): seeds and keyring come from there
#
# Reproduce a finding:  .build-fuzz/release/fuzz-<target> <crash file>
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS="fuzz-gzip fuzz-tar fuzz-apkindex fuzz-pkginfo fuzz-config fuzz-apk fuzz-dependency"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"
PARALLEL="${FUZZ_PARALLEL:-1}"
WORK="${FUZZ_WORK:-.build-fuzz/work}"
FIXTURES="${DISTILL_FIXTURES:-../shared/fixtures}"
SCRATCH=.build-fuzz

for target in $TARGETS; do
    case " $ALL_TARGETS " in *" $target "*) ;; *) echo "fuzz: unknown target $target (known: $ALL_TARGETS)" >&2; exit 2 ;; esac
done
if ! ls "$(dirname "$(readlink -f "$(command -v swiftc)")")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    echo "fuzz: this Swift toolchain has no libFuzzer runtime (libclang_rt.fuzzer); -sanitize=fuzzer needs it" >&2
    exit 2
fi

# SwiftPM's --sanitize=fuzzer tells it that libFuzzer supplies main(); the combined
# -sanitize=fuzzer,address is what instruments the Swift code for coverage (separate -sanitize
# flags override each other), and the -Xcc flags instrument the C code (libyaml) the same way.
echo "fuzz: building the targets (release, ASan + libFuzzer) in $SCRATCH"
swift build -c release --package-path Fuzz --scratch-path "$SCRATCH" \
    --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address 2>&1 \
    | grep -v -e "ld.gold: warning: Cannot export local symbol '__asan" -e '^\[[0-9]*/[0-9]*\]' || true
BIN="$SCRATCH/release"
for target in $TARGETS; do
    [ -x "$BIN/$target" ] || { echo "fuzz: the build did not produce $BIN/$target" >&2; exit 1; }
done

mkdir -p "$WORK/corpus" "$WORK/artifacts" "$WORK/logs"
rm -rf "$WORK/seeds"
mkdir -p "$WORK/seeds"
if [ -d "$FIXTURES" ]; then
    python3 Fuzz/make-seeds.py --fixtures "$FIXTURES" "$WORK/seeds"
    KEYS="$FIXTURES/keys/alpine:$FIXTURES/keys/wolfi:$FIXTURES/keys/chainguard:$FIXTURES/apko-testrepo"
else
    echo "fuzz: no fixtures at $FIXTURES; running from the committed corpus only"
    KEYS=""
fi

export SWIFT_BACKTRACE=enable=no   # the Swift runtime's backtracer would hold the crash up; libFuzzer reports it
# No allocation stacks in reports (malloc_context_size=0): recording one per allocation halves the
# exec rate of these allocation-heavy parsers. Rerun a crash file with default ASAN_OPTIONS to get them.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:malloc_context_size=0:quarantine_size_mb=64}"
export DISTILL_FUZZ_KEYS="$KEYS"

run_target() {
    local target="$1" log="$WORK/logs/$1.log"
    mkdir -p "$WORK/corpus/$target" "$WORK/seeds/$target"
    # Inputs longer than this are cut when loaded: 16 KiB holds the signature and control members
    # of a real package (and whole small ones), and keeps the exec rate up; text stays shorter.
    local max_len=8192
    case "$target" in fuzz-gzip|fuzz-tar|fuzz-apk|fuzz-apkindex) max_len=16384 ;; esac
    local dict=()
    [ -f "Fuzz/dictionaries/$target.dict" ] && dict=(-dict="Fuzz/dictionaries/$target.dict")
    # The first corpus directory receives new inputs; the committed and fixture seeds are read only.
    # shellcheck disable=SC2086
    "$BIN/$target" "$WORK/corpus/$target" "Fuzz/corpus/$target" "$WORK/seeds/$target" "${dict[@]}" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$target-" ${FUZZ_FLAGS:-} \
        >"$log" 2>&1
}

summarize() {
    local target="$1" status="$2" log="$WORK/logs/$1.log"
    local execs rate
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ]; then
        printf 'fuzz: %-16s ok      %12s execs  %8s exec/s  (%ss)\n' "$target" "${execs:-?}" "${rate:-?}" "$SECONDS_PER_TARGET"
    else
        printf 'fuzz: %-16s FAILED  %12s execs  %8s exec/s  exit %s\n' "$target" "${execs:-?}" "${rate:-?}" "$status"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*Fatal error:|ALARM|==[0-9]+== ERROR: libFuzzer)' "$log" | head -n 5 | sed 's/^/      /'
        grep -o "Test unit written to .*" "$log" | sed 's/^/      /' || true
        echo "      log: $log"
    fi
}

echo "fuzz: ${SECONDS_PER_TARGET}s per target, $PARALLEL at a time: $TARGETS"
failed=0
pending=($TARGETS)
while [ ${#pending[@]} -gt 0 ]; do
    batch=("${pending[@]:0:$PARALLEL}")
    pending=("${pending[@]:$PARALLEL}")
    pids=()
    for target in "${batch[@]}"; do
        run_target "$target" & pids+=($!)
    done
    for index in "${!batch[@]}"; do
        status=0
        wait "${pids[$index]}" || status=$?
        summarize "${batch[$index]}" "$status"
        [ "$status" -eq 0 ] || failed=1
    done
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: FAILED: reproduce with $BIN/<target> <crash file>; keep the minimized input as a regression test" >&2
    exit 1
fi
echo "fuzz: no crashes"
