#!/usr/bin/env bash
# The engine's SGEMM kernel sets (AVX-512 / AVX2, Sources/CKernels) against OpenBLAS, single-threaded, on
# the engine's GEMM shapes (decoder Winograd blocks, transposed-conv pair rows) and two large ones, with
# OPENBLAS_CORETYPE as set (Haswell when unset) and unset. Thread CPU time, best of 5. Needs clang and
# libopenblas-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/brixia-bench-sgemm-kernels"
clang -O3 -ISources/CKernels/include scripts/bench-sgemm-kernels.c Sources/CKernels/sgemm.c -lopenblas -lm -o "$out"
echo "== OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell} (as set; Haswell when unset)"
OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" "$out"
echo "== OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$out"
