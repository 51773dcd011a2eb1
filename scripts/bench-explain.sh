#!/usr/bin/env bash
# Explanation cost benchmark (docs/performance.md, "Explainability"): the shipped model on two Cohen images
# from ../shared, 180 segments, 2 workers, with reuse (the default) and with --no-reuse, each as a multiple of
# the median of 3 warm 2-thread forward passes in the same process. Release build; run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
images=../shared/data/cohen/images
[ -d "$images" ] || { echo "bench-explain: needs ../shared/data/cohen (not found at $images)" >&2; exit 2; }
swift build -c release --product brixia >/dev/null
out=${BENCH_OUT:-/tmp/brixia-bench-explain}
for img in 16654_2_1.jpg covid-19-pneumonia-43-day2.jpeg; do
  for mode in "" "--no-reuse"; do
    echo "== $img ${mode:-(reuse)}"
    /usr/bin/time -v .build/release/brixia explain "$images/$img" --model models/bsnet-brixia-own \
      --segments 180 --threads 2 --workers 2 --time-forward 3 --nice 0 $mode --out "$out/$img$mode" 2>&1 \
      | grep -E "warm forward|super-pixels|= .* x one|Elapsed|Maximum resident"
  done
done
