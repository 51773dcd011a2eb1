#!/usr/bin/env bash
# The main job on the sample studies: Samples/ -> inbox -> BS-Net -> SQLite history -> SR + rendered SC,
# then where the reports went and one patient's trend. Installs missing Debian packages first.
#
#   scripts/demo.sh                 # work folder: a fresh temporary folder (printed)
#   BRIXIA_DEMO_DIR=DIR scripts/demo.sh
#   BRIXIA_MODEL=BUNDLE scripts/demo.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
scripts/install-deps.sh

echo "== building brixia (release; the first build takes several minutes)"
swift build -c release --product brixia 2>&1 | grep -E "error|warning: unre|Compiling brixia|Build complete" || true
bin="$(swift build -c release --show-bin-path)/brixia"
[ -x "$bin" ] || { echo "build failed: $bin not found" >&2; exit 1; }

work="${BRIXIA_DEMO_DIR:-$(mktemp -d /tmp/brixia-demo.XXXXXX)}"
mkdir -p "$work"
if [ -e "$work/inbox" ] || [ -e "$work/brixia.sqlite" ]; then
  echo "work folder $work is not fresh (inbox or database exists); choose another BRIXIA_DEMO_DIR" >&2; exit 1
fi
echo "== work folder: $work"

# The model: explicit bundle, else the project's own trained default model (models/, docs/model-card.md),
# else the authors' calibrated RANDOM reference weights on a dev machine, else stop.
model="${BRIXIA_MODEL:-}"
if [ -z "$model" ] && [ -f "$repo/models/bsnet-brixia-own/model.json" ]; then
  model="$repo/models/bsnet-brixia-own"
  echo "== model: the shipped default, $("$bin" model info "$model" | sed -n 's/^name: *//p') (a small research model trained on 144 public images, not for clinical use; its cross-validated figures: docs/model-card.md)"
fi
ref="$repo/../shared/data/reference/bsnet-keras/bscore_scaled_weights.h5"
if [ -z "$model" ] && [ -f "$ref" ]; then
  model="$work/model-reference-NOT-TRAINED"
  cat <<'MSG'
== no trained model given: importing the authors' calibrated RANDOM reference weights from ../shared.
   They exercise every part of the pipeline, but the scores they give MEAN NOTHING clinically.
   Brixia's own trained default model is not available yet; with the authors' published weights:
   brixia model import-keras bscore-model.h5 --out DIR, then BRIXIA_MODEL=DIR scripts/demo.sh
MSG
  "$bin" model import-keras "$ref" --out "$model" --name bsnet-reference-random-NOT-TRAINED --version parity-vectors \
    --licence "test vectors of the project's reference data; not a trained model" >/dev/null
fi
if [ -z "$model" ]; then
  echo "== samples found in Samples/ (header check only):"
  "$bin" inspect Samples/studies/*/*/*.dcm | grep -E "^(/|Samples)|eligible" || true
  cat >&2 <<'MSG'

No model: Brixia does not ship a trained BS-Net model yet, and no reference weights were found in ../shared.
Import the authors' published weights and run again:
    brixia model import-keras bscore-model.h5 --out DIR
    BRIXIA_MODEL=DIR scripts/demo.sh
MSG
  exit 3
fi

mkdir -p "$work/inbox"
cp -r Samples/studies "$work/inbox/"
cp -r Samples/rejects "$work/inbox/"
echo "== brixia run --once"
set +e
"$bin" run --once --inbox "$work/inbox" --outbox "$work/outbox" --archive "$work/archive" \
  --quarantine "$work/quarantine" --db "$work/brixia.sqlite" --model "$model" --log-level warning
rc=$?
set -e
echo
echo "== reports (DICOM SR and rendered Secondary Capture) in $work/outbox:"
find "$work/outbox" -type f -name '*.dcm' | sort | sed 's/^/   /'
echo "== quarantined inputs (with .reason.txt) in $work/quarantine:"
find "$work/quarantine" -type f -name '*.reason.txt' | sort | while read -r f; do echo "   $f: $(head -c 160 "$f" | tr '\n' ' ')"; done
echo
echo "== trend of sample patient BRX-0001"
"$bin" trend BRX-0001 --db "$work/brixia.sqlite"
echo
echo "To look at these results in the web console (worklist, trend charts, report images):"
echo "    scripts/console-demo.sh $work"
echo
echo "AI-generated results, not verified by a physician: not for diagnostic use."
exit $rc
