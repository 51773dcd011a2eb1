#!/usr/bin/env bash
# Brixia against the references themselves (issue #16 item 4): the authors' Keras BS-Net (TF 2.21 +
# tf-keras, their code from ../shared unchanged) and the same model converted to OpenVINO float32,
# timed interleaved with `brixia bench --serve` (one image at a time, round-robin, median of
# BENCH_ROUNDS=7 after 2 warm-ups), batch 1, BENCH_THREADS=2 threads, in two conditions:
#   "as set": OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as in the caller's environment (when the caller has no
#             OPENBLAS_CORETYPE, BENCH_AS_SET_CORETYPE=Haswell is used: the handicapped setting of issue #16);
#   "unset":  both variables removed (OpenBLAS detects the CPU).
# Also the machine's best SGEMM (OpenBLAS self-detected, 1024^3) and every runtime's peak RSS.
# Prints a markdown table ready for docs/performance.md (and keeps it in $BENCH_OUT, default /tmp/bench-vs-keras).
#
# The venv (TensorFlow, tf-keras, OpenVINO; ~2 GB, a few minutes of download the first time) is cached in
# $BRIXIA_KERAS_VENV (default /var/cache/brixia-keras-bench-venv), the OpenVINO IR next to it.
# BRIXIA_BIN=path skips the release build; BENCH_RUNTIMES=keras,brixia (say) leaves a runtime out;
# BENCH_ROUNDS / BENCH_WARMUP change 7 / 2. Needs ../shared (the authors' code and the parity weights).
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED="${BRIXIA_SHARED:-$(cd .. && pwd)/shared}"
SRC="$SHARED/data/reference/bsnet-keras-src"
WEIGHTS="$SHARED/data/reference/bsnet-keras/bscore_scaled_weights.h5"
if [[ ! -d "$SRC/BSNet" || ! -f "$WEIGHTS" ]]; then
    echo "bench-vs-keras: needs the authors' Keras code and weights under $SHARED/data/reference (absent); nothing measured" >&2
    exit 2
fi

VENV="${BRIXIA_KERAS_VENV:-/var/cache/brixia-keras-bench-venv}"
REQ=scripts/bench-vs-keras-requirements.txt
PY="${PYTHON:-python3}"
stamp="$(sha256sum "$REQ" | cut -d' ' -f1) $("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.brixia-stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "bench-vs-keras: creating venv $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check ${BRIXIA_PIP_ARGS:-} -r "$REQ"
    echo "$stamp" > "$VENV/.brixia-stamp"
else
    echo "bench-vs-keras: reusing venv $VENV"
fi

if [[ -z "${BRIXIA_BIN:-}" ]]; then
    swift build -c release --product brixia
    BRIXIA_BIN=.build/release/brixia
fi

OUT="${BENCH_OUT:-/tmp/bench-vs-keras}"
mkdir -p "$OUT"
# The IR depends on the runtimes and the weights only (bump "ir2" when the conversion code changes).
IR="$VENV/ir2-$(cat "$REQ" "$WEIGHTS" | sha256sum | cut -c1-16)"
if [[ ! -f "$IR/bsnet.xml" && ",${BENCH_RUNTIMES:-openvino}," == *,openvino,* ]]; then
    echo "bench-vs-keras: converting the Keras model to OpenVINO IR in $IR"
    rm -rf "$IR.tmp" && mkdir -p "$IR.tmp"
    "$VENV/bin/python" scripts/bench_vs_keras.py convert "$IR.tmp"
    rm -rf "$IR" && mv "$IR.tmp" "$IR"
fi

ROUNDS="${BENCH_ROUNDS:-7}"
WARMUP="${BENCH_WARMUP:-2}"
export BENCH_THREADS="${BENCH_THREADS:-2}"
echo "bench-vs-keras: best SGEMM (variables unset)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BRIXIA_BIN" bench --sgemm-only --threads "1,$BENCH_THREADS" | tee "$OUT/sgemm.txt"

: > "$OUT/results.jsonl"
asset_core="${OPENBLAS_CORETYPE:-${BENCH_AS_SET_CORETYPE:-Haswell}}"
label="as set (OPENBLAS_CORETYPE=$asset_core${OPENBLAS_L2_SIZE:+, OPENBLAS_L2_SIZE=$OPENBLAS_L2_SIZE})"
echo "bench-vs-keras: condition $label"
OPENBLAS_CORETYPE="$asset_core" "$VENV/bin/python" scripts/bench_vs_keras.py drive --brixia "$BRIXIA_BIN" --ir "$IR" \
    --rounds "$ROUNDS" --warmup "$WARMUP" --label "$label" >> "$OUT/results.jsonl"
echo "bench-vs-keras: condition unset"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$VENV/bin/python" scripts/bench_vs_keras.py drive --brixia "$BRIXIA_BIN" \
    --ir "$IR" --rounds "$ROUNDS" --warmup "$WARMUP" --label "variables unset" >> "$OUT/results.jsonl"

{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg); command: \`scripts/bench-vs-keras.sh\` (commit $(git rev-parse --short HEAD))."
    echo
    BENCH_PARITY_JSON="$IR/parity.json" "$VENV/bin/python" scripts/bench_vs_keras.py report "$OUT/results.jsonl" "$OUT/sgemm.txt"
} | tee "$OUT/table.md"
