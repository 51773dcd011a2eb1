#!/usr/bin/env bash
# False-reject and false-accept rates of the image-content check (docs/quality-check.md).
#   scripts/eval-quality-check.sh [MODEL_DIR]      (default: the shipped models/bsnet-brixia-own)
# Positives: every image of ../shared/data/cohen and ../shared/data/opacity and the frontal files of
# ../shared/data/dicom. Negatives: the lateral dog thorax and the lying-MONOCHROME1 file of data/dicom, the
# project's own report rendering (SC of a sample study made by `brixia run --once`, converted to PNG with
# dcmj2pnm), and, made from every 15th positive, inverted / rotated 90 / rotated 180 / cropped copies,
# plus uniform and noise images. About 330 forward passes (more where the paired checks run a second one):
# 15-20 minutes on 2 cores; run it once.
#   QC_THREADS=2                         threads per forward pass (default 1)
#   QC_ALL_DERIVED=rotated180,inverted   also judges those copies of EVERY positive (another ~900 passes),
#                                        details in ${DETAILS}.all-derived
# Re-judge recorded measures with the current bounds (no inference): brixia dev qc-eval --replay FILE.
# Re-derive the bounds from them (calibration rule, leave-one-out estimate; docs/quality-check.md):
#   brixia dev qc-eval --replay FILE --derive-from ../shared/data/cohen --derive-from ../shared/data/opacity
# The shipped bounds come from the record committed as docs/data/quality-check-measures.jsonl
# (DETAILS=docs/data/quality-check-measures.jsonl QC_THREADS=2 scripts/eval-quality-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${BRIXIA_SHARED:-../shared}
BIN=${BRIXIA_BIN:-.build/debug/brixia}
MODEL=${1:-models/bsnet-brixia-own}
if [ ! -d "$SHARED/data/cohen/images" ]; then echo "skip: $SHARED/data not found (reference data absent)"; exit 0; fi
[ -x "$BIN" ] || { echo "build first: swift build (or set BRIXIA_BIN)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The project's own rendered report, from one sample study through the real pipeline.
mkdir -p "$tmp/inbox"
cp Samples/studies/BRX-0003/*.dcm "$tmp/inbox/"
"$BIN" run --once --inbox "$tmp/inbox" --outbox "$tmp/outbox" --archive "$tmp/archive" \
    --quarantine "$tmp/quarantine" --db "$tmp/db.sqlite" --model "$MODEL" > "$tmp/run.log" 2>&1 || true
n=0
for sc in "$tmp"/outbox/*.sc.dcm; do
    [ -e "$sc" ] || continue
    n=$((n + 1)); dcmj2pnm +on "$sc" "$tmp/rendering-$n.png"
done
[ "$n" -gt 0 ] || { echo "no rendering produced; see below" >&2; cat "$tmp/run.log" >&2; exit 1; }

D="$SHARED/data/dicom"
"$BIN" dev qc-eval --model "$MODEL" --threads "${QC_THREADS:-1}" \
    --positive "$SHARED/data/cohen/images" --positive "$SHARED/data/opacity/images" \
    --positive "$D/CR-MONO1-10-chest.dcm" --positive "$D/RG1_J2KI.dcm" --positive "$D/siim_cr_chest_jpegbaseline.dcm" \
    --negative "$D/fuji_dx_animal_thorax_small_MONO1_inverse.dcm" --negative "$D/siim_cr_chest_fake_MONOCHROME1.dcm" \
    --negative "$tmp/rendering-1.png" \
    --derive-every 15 --details "${DETAILS:-$tmp/details.jsonl}"

if [ -n "${QC_ALL_DERIVED:-}" ]; then
    "$BIN" dev qc-eval --model "$MODEL" --threads "${QC_THREADS:-1}" \
        --positive "$SHARED/data/cohen/images" --positive "$SHARED/data/opacity/images" \
        --positive "$D/CR-MONO1-10-chest.dcm" --positive "$D/RG1_J2KI.dcm" --positive "$D/siim_cr_chest_jpegbaseline.dcm" \
        --derive-every 1 --derive-kinds "$QC_ALL_DERIVED" --derived-only --details "${DETAILS:-$tmp/details.jsonl}.all-derived"
fi
