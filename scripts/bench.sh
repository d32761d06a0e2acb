#!/usr/bin/env bash
# `make bench`: Distill's speed beside the standard tool for the same job, on the same bytes.
# Builds release, makes the synthetic inputs (deterministic; kept in bench/work between runs),
# runs each measurement and its reference, and prints a table of ratios, also written to
# bench/results/latest.txt. Nothing here passes or fails on speed; numbers depend on the
# machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=${DISTILL_FIXTURES:-../shared/fixtures}
work=bench/work
results=bench/results
mkdir -p "$work" "$results"

swift build -c release >/dev/null
bin=.build/release
distill=$bin/distill
bench=$bin/distill-bench

# Best wall time of N runs of a shell command line, in seconds.
best_seconds() {
    local runs=$1 command=$2 best="" start end elapsed
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        bash -c "$command" >/dev/null
        end=$(date +%s%N)
        elapsed=$((end - start))
        if [ -z "$best" ] || [ "$elapsed" -lt "$best" ]; then best=$elapsed; fi
    done
    awk -v ns="$best" 'BEGIN { printf "%.4f", ns / 1e9 }'
}
# The value of `name value unit` line NAME in FILE.
value() { awk -v key="$1" '$1 == key { print $2 }' "$2"; }
# Peak RSS in MB from a `/usr/bin/time -v` report.
peak_rss() { awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v mb="$1" -v s="$2" 'BEGIN { printf "%.1f", mb / s }'; }

# --- inputs -----------------------------------------------------------------------------------
[ -f "$work/bench.rsa" ] || "$distill" keygen --bits 2048 "$work/bench" >/dev/null
if [ ! -f "$work/APKINDEX-100k.tar.gz" ]; then
    "$bench" make-index --entries 100000 --key "$work/bench.rsa" -o "$work/APKINDEX-100k.tar.gz"
fi
if [ ! -f "$work/big-1.0-r0.apk" ]; then
    rm -rf "$work/tree"
    "$bench" make-tree --bytes 200000000 "$work/tree"
    pack_seconds=$(best_seconds 1 "SOURCE_DATE_EPOCH=0 '$distill' pack --name big --version 1.0-r0 --arch x86_64 --key '$work/bench.rsa' '$work/tree' '$work/big-1.0-r0.apk'")
    echo "packed 200 MB in $pack_seconds s" > "$work/pack-time.txt"
    rm -rf "$work/tree"
fi
if [ ! -s "$work/gzip-input.bin" ]; then
    tar -cf - /usr/share /usr/lib 2>/dev/null | head -c 200000000 > "$work/gzip-input.bin" || true
fi

# --- measurements -------------------------------------------------------------------------------
table=$(mktemp)
printf '%-58s %14s %14s %8s\n' "measurement" "distill" "reference" "ratio" > "$table"
row() { printf '%-58s %14s %14s %8s\n' "$1" "$2" "$3" "$4" >> "$table"; }

index_row() {  # label, file, keyring
    local out=$work/$1.out
    "$bench" index-parse --label "$1" --keyring "$3" "$2" > "$out"
    local mb seconds reference
    mb=$(value "$1.text" "$out")
    seconds=$(value "$1.read" "$out")
    reference=$(best_seconds 5 "gzip -dc '$2' | wc -l")
    row "$1: read+verify+parse (MB/s of text)" "$(rate "$mb" "$seconds")" "$(rate "$mb" "$reference")" "$(ratio "$reference" "$seconds")"
    row "$1: parse only (MB/s of text)" "$(value "$1.parse_rate" "$out")" "-" "-"
    row "$1: records" "$(value "$1.packages" "$out" | cut -d. -f1)" "-" "-"
}
index_row "alpine-v3.16-index" "$fixtures/alpine/v3.16-x86_64-main/APKINDEX.tar.gz" "$fixtures/keys/alpine"
index_row "synthetic-100k-index" "$work/APKINDEX-100k.tar.gz" "$work/bench.rsa.pub"

# A 200 MB package: verify + expand, beside `openssl dgst -sha256` over the same bytes.
/usr/bin/time -v "$bench" baseline > /dev/null 2> "$work/baseline.time"
/usr/bin/time -v "$bench" verify-apk --label apk-200mb --keyring "$work/bench.rsa.pub" "$work/big-1.0-r0.apk" \
    > "$work/apk.out" 2> "$work/apk.time"
apk_mb=$(value apk-200mb.size "$work/apk.out")
apk_seconds=$(value apk-200mb.seconds "$work/apk.out")
openssl_seconds=$(best_seconds 3 "openssl dgst -sha256 '$work/big-1.0-r0.apk'")
row "apk 200 MB: verify+expand (MB/s of .apk)" "$(rate "$apk_mb" "$apk_seconds")" "$(rate "$apk_mb" "$openssl_seconds")" "$(ratio "$openssl_seconds" "$apk_seconds")"
baseline_rss=$(peak_rss "$work/baseline.time")
apk_rss=$(peak_rss "$work/apk.time")
row "apk 200 MB: peak RSS (MB)" "$apk_rss" "$baseline_rss" "-"
row "apk 200 MB: peak RSS beyond baseline (MB)" "$(awk -v a="$apk_rss" -v b="$baseline_rss" 'BEGIN { printf "%.1f", a - b }')" "64 max" "-"
[ -f "$work/pack-time.txt" ] && row "apk 200 MB: $(cat "$work/pack-time.txt")" "-" "-" "-"

# Resolution: every closure of the real index one by one, and one 300-name world on the synthetic
# 100,000-entry index (make-index's packages all need so:libc…, given by one extra base package),
# each beside the time it takes to read the same index.
"$bench" resolve-each --label alpine-resolve --keyring "$fixtures/keys/alpine" \
    "$fixtures/alpine/v3.16-x86_64-main/APKINDEX.tar.gz" > "$work/resolve-each.out"
solves=$(value alpine-resolve.solves "$work/resolve-each.out" | cut -d. -f1)
row "alpine-v3.16: $solves closures one by one (s; ref: read)" "$(value alpine-resolve.total "$work/resolve-each.out")" \
    "$(value alpine-v3.16-index.read "$work/alpine-v3.16-index.out")" "-"
row "alpine-v3.16: per solve, median / p99 (ms)" "$(value alpine-resolve.median_ms "$work/resolve-each.out")" \
    "$(value alpine-resolve.p99_ms "$work/resolve-each.out")" "-"
row "alpine-v3.16: unsatisfiable alone (as with apk: /bin/sh …)" "$(value alpine-resolve.failed "$work/resolve-each.out" | cut -d. -f1)" "-" "-"
/usr/bin/time -v "$bench" resolve-world --label world-300 --keyring "$work/bench.rsa.pub" --provide so:libc.musl-x86_64.so.1 \
    "$work/APKINDEX-100k.tar.gz" > "$work/resolve-world.out" 2> "$work/resolve-world.time"
selected=$(value world-300.selected "$work/resolve-world.out" | cut -d. -f1)
row "synthetic-100k: 300 names -> $selected pkgs (s; ref: read)" "$(value world-300.solve "$work/resolve-world.out")" \
    "$(value synthetic-100k-index.read "$work/synthetic-100k-index.out")" "-"
row "synthetic-100k: solver index build (s)" "$(value world-300.index_build "$work/resolve-world.out")" "-" "-"
row "synthetic-100k: solve peak RSS (MB; ref: baseline)" "$(peak_rss "$work/resolve-world.time")" "$baseline_rss" "-"

# gzip writers beside single-threaded `gzip -6` on ~200 MB of real files.
"$bench" gzip --label gzip6 --level 6 "$work/gzip-input.bin" > "$work/gzip.out"
gzip_mb=$(stat -c %s "$work/gzip-input.bin" | awk '{ printf "%.3f", $1 / 1e6 }')
gzip_seconds=$(best_seconds 1 "gzip -6 -c '$work/gzip-input.bin'")
gzip_rate=$(rate "$gzip_mb" "$gzip_seconds")
for writer in serial parallel; do
    ours=$(value "gzip6.$writer.rate" "$work/gzip.out")
    row "gzip -6: $writer writer (MB/s of input)" "$ours" "$gzip_rate" "$(ratio "$ours" "$gzip_rate")"
done

{
    echo "distill bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores; ratio > 1: distill is faster"
    cat "$table"
} | tee "$results/latest.txt"
rm -f "$table"
