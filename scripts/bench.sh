#!/usr/bin/env bash
# `make bench`: Distill's speed beside the standard tool for the same job, on the same bytes.
# Builds release, makes the synthetic inputs (deterministic; kept in bench/work between runs),
# runs each measurement and its reference, and prints a table of ratios with issue 8's targets
# beside them (✓/✗, informational), also written to bench/results/latest.txt and a dated copy.
# Nothing here fails on speed; numbers depend on the machine and its load (the header gives the
# load average before and after the run).
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
# User + system CPU seconds from a `/usr/bin/time -v` report: unlike wall time, barely moved by
# other processes competing for the cores.
cpu_seconds() { awk -F: '/User time|System time/ { sum += $2 } END { printf "%.2f", sum }' "$1"; }
# Peak RSS in MB from a `/usr/bin/time -v` report.
peak_rss() { awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v mb="$1" -v s="$2" 'BEGIN { printf "%.1f", mb / s }'; }

# `scripts/bench.sh build` measures only the image builds (to re-run them when other processes
# disturbed a full run; the 1 GB image only once a full run made its repository).
only=${1:-all}

# --- inputs -----------------------------------------------------------------------------------
[ -f "$work/bench.rsa" ] || "$distill" keygen --bits 2048 "$work/bench" >/dev/null
# Synthetic 300-package repositories (~200 MB, and ~1 GB for the big image) with a realistic
# mix of file sizes and kinds, packed and indexed with distill's own commands (deterministic:
# fixed seed and epoch), and a config installing every package.
make_repo() {  # directory, bytes
    local repo=$1 bytes=$2
    if [ ! -f "$repo/x86_64/APKINDEX.tar.gz" ]; then
        rm -rf "$repo.trees" "$repo"
        mkdir -p "$repo/x86_64"
        "$bench" make-repo-trees --packages 300 --bytes "$bytes" "$repo.trees" >/dev/null
        for tree in "$repo.trees"/bench-*; do
            name=$(basename "$tree")
            SOURCE_DATE_EPOCH=0 "$distill" pack --name "$name" --version 1.0-r0 --arch x86_64 --key "$work/bench.rsa" \
                --license MIT --origin "$name" "$tree" "$repo/x86_64/$name-1.0-r0.apk" >/dev/null
        done
        "$distill" index build --key "$work/bench.rsa" -o "$repo/x86_64/APKINDEX.tar.gz" "$repo"/x86_64/*.apk >/dev/null
        rm -rf "$repo.trees"
    fi
    {
        echo "contents:"
        echo "  keyring: [$PWD/$work/bench.rsa.pub]"
        echo "  repositories: [$PWD/$repo]"
        echo "  packages:"
        for apk in "$repo"/x86_64/*.apk; do echo "    - $(basename "$apk" -1.0-r0.apk)"; done
        echo "archs: [x86_64]"
    } > "$repo.yaml"
}
make_repo "$work/repo-300" 200000000
[ "$only" = all ] && make_repo "$work/repo-1g" 1000000000

if [ "$only" = all ] && [ ! -f "$work/APKINDEX-100k.tar.gz" ]; then
    "$bench" make-index --entries 100000 --key "$work/bench.rsa" -o "$work/APKINDEX-100k.tar.gz"
fi
if [ "$only" = all ] && [ ! -f "$work/big-1.0-r0.apk" ]; then
    rm -rf "$work/tree"
    "$bench" make-tree --bytes 200000000 "$work/tree"
    pack_seconds=$(best_seconds 1 "SOURCE_DATE_EPOCH=0 '$distill' pack --name big --version 1.0-r0 --arch x86_64 --key '$work/bench.rsa' '$work/tree' '$work/big-1.0-r0.apk'")
    echo "packed 200 MB in $pack_seconds s" > "$work/pack-time.txt"
    rm -rf "$work/tree"
fi
if [ "$only" = all ] && [ ! -s "$work/gzip-input.bin" ]; then
    tar -cf - /usr/share /usr/lib 2>/dev/null | head -c 200000000 > "$work/gzip-input.bin" || true
fi

# --- measurements -------------------------------------------------------------------------------
table=$(mktemp)
printf '%-60s %12s %12s %8s  %s\n' "measurement" "distill" "reference" "ratio" "target" > "$table"
# row LABEL DISTILL REFERENCE RATIO [TARGET-TEXT PASSED]: PASSED is 1 or 0, shown as ✓ or ✗.
row() {
    local mark=""
    if [ $# -ge 6 ]; then if [ "$6" = 1 ]; then mark="✓ $5"; else mark="✗ $5"; fi; fi
    printf '%-60s %12s %12s %8s  %s\n' "$1" "$2" "$3" "$4" "$mark" >> "$table"
}
# 1 when A >= B (numbers), else 0.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? 1 : 0 }'; }

# Wall seconds of a command line, and its `/usr/bin/time -v` report in FILE.
timed() {
    local report=$1 command=$2 start end
    start=$(date +%s%N)
    /usr/bin/time -v bash -c "$command" >/dev/null 2>"$report"
    end=$(date +%s%N)
    awk -v ns="$((end - start))" 'BEGIN { printf "%.4f", ns / 1e9 }'
}

# The image build: cold (empty cache: verify, expand, compose, compress), beside the apk-less
# baseline `tar -c rootfs | gzip -6` on the unpacked result and the "physical limit" (inflate all
# package data + deflate the layer with pigz, the same bytes); then warm (cache filled: the layer
# comes from the layer cache). Peak RSS from /usr/bin/time -v. The references write to /dev/null
# while the build writes its cache and an fsynced layer next to the output: on a disk other
# processes keep busy, compare the CPU rows.
build_rows() {  # label, repository, config, with-tar-baseline (1/0)
    local label=$1 repo=$2 config=$3 with_baseline=$4
    scripts/oracles.sh ensure_apt pigz >/dev/null 2>&1 || true
    local b=$work/build-$label
    rm -rf "$b" && mkdir -p "$b"
    local cold warm run seconds
    cold=$(timed "$b/cold.time" "SOURCE_DATE_EPOCH=0 '$distill' build --quiet --cache-dir '$b/cache' '$config' bench/build:1 '$b/cold/' > '$b/cold.digest'")
    # Warm is short enough for other processes' bursts to dominate one run: the best of three.
    for run in 1 2 3; do
        rm -rf "$b/warm"
        seconds=$(timed "$b/warm-$run.time" "SOURCE_DATE_EPOCH=0 '$distill' build --quiet --cache-dir '$b/cache' '$config' bench/build:1 '$b/warm/' > '$b/warm.digest'")
        if [ -z "${warm:-}" ] || awk -v a="$seconds" -v b="$warm" 'BEGIN { exit !(a < b) }'; then
            warm=$seconds
            cp "$b/warm-$run.time" "$b/warm.time"
        fi
    done
    local layer
    layer=$(python3 - "$b/cold" <<'PY'
import json, sys
root = sys.argv[1]
def blob(digest): return json.load(open(f"{root}/blobs/sha256/{digest.split(':')[1]}"))
index = blob(json.load(open(f"{root}/index.json"))["manifests"][0]["digest"])
manifest = blob(index["manifests"][0]["digest"])
print(f"{root}/blobs/sha256/{manifest['layers'][0]['digest'].split(':')[1]}")
PY
)
    gzip -dc "$layer" > "$b/layer.tar"
    local inflate deflate deflater=gzip limit
    command -v pigz >/dev/null && deflater=pigz
    inflate=$(timed "$b/inflate.time" "cat '$repo'/x86_64/*.apk | gzip -dc > /dev/null")
    deflate=$(timed "$b/deflate.time" "$deflater -6 -c '$b/layer.tar' > /dev/null")
    limit=$(awk -v a="$inflate" -v b="$deflate" 'BEGIN { printf "%.4f", a + b }')
    local cold_cpu warm_cpu limit_cpu
    cold_cpu=$(cpu_seconds "$b/cold.time")
    warm_cpu=$(cpu_seconds "$b/warm.time")
    limit_cpu=$(awk -v a="$(cpu_seconds "$b/inflate.time")" -v b="$(cpu_seconds "$b/deflate.time")" 'BEGIN { printf "%.2f", a + b }')
    local mb
    mb=$(stat -c %s "$b/layer.tar" | awk '{ printf "%.0f", $1 / 1e6 }')
    if [ "$with_baseline" = 1 ]; then
        mkdir -p "$b/rootfs"
        tar -xf "$b/layer.tar" -C "$b/rootfs"
        local baseline
        baseline=$(best_seconds 1 "tar -c -C '$b/rootfs' . | gzip -6 > /dev/null")
        row "build $label, $mb MB tar: cold (s; ref: tar | gzip -6)" "$cold" "$baseline" "$(ratio "$baseline" "$cold")" \
            ">= 1.5x" "$(at_least "$(ratio "$baseline" "$cold")" 1.5)"
        rm -rf "$b/rootfs"
    fi
    row "build $label, $mb MB tar: cold (s; ref: inflate + $deflater -6)" "$cold" "$limit" "$(ratio "$limit" "$cold")" \
        "cold <= 1.25x limit" "$(at_least "$(ratio "$limit" "$cold")" 0.8)"
    row "build $label: cold CPU user+sys (s; ref: inflate + $deflater -6)" "$cold_cpu" "$limit_cpu" "$(ratio "$limit_cpu" "$cold_cpu")" \
        "cold <= 1.25x limit" "$(at_least "$(ratio "$limit_cpu" "$cold_cpu")" 0.8)"
    row "build $label: cold peak RSS (MB)" "$(peak_rss "$b/cold.time")" "-" "-" "< 150 MB" "$(at_least 150 "$(peak_rss "$b/cold.time")")"
    row "build $label: warm (s; ref: cold)" "$warm" "$cold" "$(ratio "$cold" "$warm")" ">= 10x" "$(at_least "$(ratio "$cold" "$warm")" 10)"
    row "build $label: warm CPU user+sys (s; ref: cold)" "$warm_cpu" "$cold_cpu" "$(ratio "$cold_cpu" "$warm_cpu")" \
        ">= 10x" "$(at_least "$(ratio "$cold_cpu" "$warm_cpu")" 10)"
    row "build $label: warm peak RSS (MB)" "$(peak_rss "$b/warm.time")" "-" "-" "< 150 MB" "$(at_least 150 "$(peak_rss "$b/warm.time")")"
    if cmp -s "$b/cold.digest" "$b/warm.digest"; then same=1; else same=0; fi
    row "build $label: warm digest = cold digest" "$([ $same = 1 ] && echo yes || echo NO)" "-" "-" "same digest" "$same"
    rm -rf "$b/layer.tar" "$b/cold" "$b/warm" "$b"/warm-*.time
}

index_row() {  # label, file, keyring
    local out=$work/$1.out
    "$bench" index-parse --label "$1" --keyring "$3" "$2" > "$out"
    local mb seconds reference
    mb=$(value "$1.text" "$out")
    seconds=$(value "$1.read" "$out")
    reference=$(best_seconds 5 "gzip -dc '$2' | wc -l")
    local parse
    parse=$(value "$1.parse_rate" "$out")
    row "$1: read+verify+parse (MB/s of text; ref: gzip -dc)" "$(rate "$mb" "$seconds")" "$(rate "$mb" "$reference")" "$(ratio "$reference" "$seconds")"
    row "$1: parse only (MB/s of text; ref: gzip -dc)" "$parse" "$(rate "$mb" "$reference")" "$(ratio "$parse" "$(rate "$mb" "$reference")")" \
        ">= 300 MB/s" "$(at_least "$parse" 300)"
    row "$1: records" "$(value "$1.packages" "$out" | cut -d. -f1)" "-" "-"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Prints the table with its header, to the terminal and to FILE… (the results directory).
finish_table() {
    local title=$1
    shift
    {
        echo "distill $title $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?');" \
            "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "ratio > 1: distill is faster (smaller for sizes); targets are issue 8's, informational"
        cat "$table"
    } > "$table.out"
    for file in "$@"; do cp "$table.out" "$file"; done
    cat "$table.out"
    rm -f "$table" "$table.out"
}
if [ "$only" = build ]; then
    build_rows 300-pkgs "$work/repo-300" "$work/repo-300.yaml" 1
    if [ -f "$work/repo-1g/x86_64/APKINDEX.tar.gz" ]; then
        build_rows 1gb-image "$work/repo-1g" "$work/repo-1g.yaml" 0
    fi
    finish_table "bench (build only)" "$results/build.txt" "$results/build-$(date -u +%Y%m%dT%H%M%SZ).txt"
    exit 0
fi

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
    if [ $writer = parallel ]; then
        row "gzip -6: $writer writer, $(nproc) threads (MB/s of input)" "$ours" "$gzip_rate" "$(ratio "$ours" "$gzip_rate")" \
            ">= 1.8x" "$(at_least "$(ratio "$ours" "$gzip_rate")" 1.8)"
    else
        row "gzip -6: $writer writer (MB/s of input)" "$ours" "$gzip_rate" "$(ratio "$ours" "$gzip_rate")"
    fi
done
gzip_size=$(gzip -6 -c "$work/gzip-input.bin" | wc -c | awk '{ printf "%.3f", $1 / 1e6 }')
parallel_size=$(value gzip6.parallel.size "$work/gzip.out")
size_ratio=$(awk -v a="$parallel_size" -v b="$gzip_size" 'BEGIN { printf "%.4f", a / b }')
row "gzip -6: parallel writer output (MB; ref: gzip -6)" "$parallel_size" "$gzip_size" "$size_ratio" "same ratio ± 1 %" \
    "$(awk -v r="$size_ratio" 'BEGIN { print (r >= 0.99 && r <= 1.01) ? 1 : 0 }')"

build_rows 300-pkgs "$work/repo-300" "$work/repo-300.yaml" 1
build_rows 1gb-image "$work/repo-1g" "$work/repo-1g.yaml" 0

finish_table bench "$results/latest.txt" "$results/$(date -u +%Y%m%dT%H%M%SZ).txt"
