#!/usr/bin/env bash
# Compares ParallelGzipWriter with single-threaded `gzip -6` on ~200 MB of real files (a tar of
# /usr/share and /usr/lib, cut at 200,000,000 bytes). Timings depend on the machine and its load;
# run it on an idle machine. Usage: scripts/benchmark-gzip.sh [level] [threads] [blockKiB]
set -euo pipefail
level=${1:-6}
threads=${2:-$(nproc)}
block=${3:-128}
input=${TMPDIR:-/tmp}/distill-gzip-benchmark.bin
if [ ! -s "$input" ]; then
    tar -cf - /usr/share /usr/lib 2>/dev/null | head -c 200000000 > "$input" || true
fi
swift build -c release --product archive-benchmark >/dev/null
echo "gzip -$level: $(gzip -"$level" -c "$input" | wc -c) bytes"
/usr/bin/env time -f "gzip -$level: %e s wall, %U s user" gzip -"$level" -c "$input" > /dev/null
.build/release/archive-benchmark "$input" "$level" "$threads" "$block"
