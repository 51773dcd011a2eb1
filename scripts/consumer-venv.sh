#!/usr/bin/env bash
# Creates or reuses the small cached venv with the DICOM consumers the conformance test reads Brixia's outputs
# with (highdicom + pydicom), and prints its python. Rebuilt when Tests/Consumers/requirements.txt or the
# Python version changes. BRIXIA_CONSUMER_VENV overrides the location; BRIXIA_PIP_ARGS adds pip options.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${BRIXIA_CONSUMER_VENV:-/var/cache/brixia-consumer-venv}"
REQ=Tests/Consumers/requirements.txt
PY="${PYTHON:-python3}"
stamp="$(sha256sum "$REQ" | cut -d' ' -f1) $("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.brixia-stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "consumers: creating venv $VENV" >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check ${BRIXIA_PIP_ARGS:-} -r "$REQ" >&2
    echo "$stamp" > "$VENV/.brixia-stamp"
fi
echo "$VENV/bin/python"
