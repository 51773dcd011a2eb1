#!/bin/sh
# End-to-end pipeline throughput on 2 cores (docs/performance.md, "Pipeline").
# Builds brixia in release, then runs the CLITests benchmark harness: N generated 2048x2048 12-bit
# DX studies (default 50) through `taskset -c 0,1 brixia run --once --threads 2` with a seeded random
# fixture model, and prints studies/hour and the share of wall time spent outside the network.
# Usage: scripts/bench-pipeline.sh [N]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product brixia
BRIXIA_BIN="$(swift build -c release --show-bin-path)/brixia" BRIXIA_BENCH=1 BRIXIA_BENCH_STUDIES="${1:-50}" \
    swift test --filter PipelineBenchmark 2>&1 | grep -E "PIPELINE-BENCH|passed|failed"
