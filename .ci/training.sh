#!/usr/bin/env bash
# CI: BS-Net training code (Python). Creates or reuses a cached venv, then runs pytest training/tests:
# parity (a) PyTorch vs the shared Keras outputs, bundle export parity (b) (the Swift part only when a
# built brixia binary is found: $BRIXIA_BIN or .build/{release,debug}/brixia), unit and smoke tests.
# Tests needing ../shared are reported as skipped when it is absent. Exit status = pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${BRIXIA_TRAINING_VENV:-/var/cache/brixia-training-venv}"
REQ=training/requirements.txt
PY="${PYTHON:-python3}"
stamp="$(sha256sum "$REQ" | cut -d' ' -f1) $("$PY" -c 'import sys; print(sys.version.split()[0])')"

if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.brixia-stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "training: creating venv $VENV (requirements changed or absent)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
    start=$(date +%s)
    # torch==2.13.0 resolves to the CPU-only wheel when /opt/wheels (pip find-links) has it;
    # BRIXIA_PIP_ARGS can add e.g. --extra-index-url https://download.pytorch.org/whl/cpu elsewhere.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check ${BRIXIA_PIP_ARGS:-} -r "$REQ"
    echo "training: install took $(( $(date +%s) - start )) s, venv $(du -sh "$VENV" | cut -f1)"
    echo "$stamp" > "$VENV/.brixia-stamp"
else
    echo "training: reusing venv $VENV"
fi

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$VENV/bin/python" -m pytest training/tests -q -rs -p no:cacheprovider
