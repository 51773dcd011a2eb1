#!/usr/bin/env bash
# New score heads on the shipped model's frozen trunk, from cross-validation to the exported bundle: the
# command behind version 1.0's figures (docs/model-card.md, "Version 1.0"). Every stage is resumable:
# rerunning the script skips finished stages and resumes an interrupted one.
#
#   PY=/path/to/venv/bin/python training/head_run.sh        # from the repository root; ~2.5 h on 2 cores
#
# Stages: the trunk (encoder, decoder, STN) taken from $BUNDLE with a fresh seeded head; its features cached
# once per image (as is + mirrored); per CV fold and once on all 144 images a head trained $FIRST_EPOCHS epochs,
# kept, and continued to $HEAD_EPOCHS epochs (the head's BatchNorm statistics recomputed at the end of each):
# the two snapshots are the two score heads of the ensemble (model.json scoreHeads 2, probabilities averaged);
# out-of-fold predictions read out as the engine does (both heads, mirrored), the temperature fitted on them;
# the CV evaluation with that readout; export of the all-images heads with the readout and the calibration
# recorded in model.json. Only the heads ever see a grade, so the fold heads' predictions are honest
# out-of-fold figures for the same trunk.
set -euo pipefail
PY=${PY:-python3}
R=${R:-training/runs/oof}
T=${THREADS:-2}
BUNDLE=${BUNDLE:-models/bsnet-brixia-own}
FIRST_EPOCHS=${FIRST_EPOCHS:-10}
HEAD_EPOCHS=${HEAD_EPOCHS:-25}
OUT_MODEL=${OUT_MODEL:-models/bsnet-brixia-own}
VERSION=${VERSION:-1.0}
H="score${HEAD_EPOCHS}"
. "$(dirname "$0")/shipped_model.sh"
mkdir -p "$R"

done_epochs() {  # epochs finished in run folder $1 (0 if none)
  [ -f "$1/log.jsonl" ] && wc -l < "$1/log.jsonl" || echo 0
}
head_stage() {  # head_stage NAME FOLD EPOCHS
  if [ "$(done_epochs "$R/$1")" -ge "$3" ]; then echo "== $1: complete"; return; fi
  echo "== $1 ($3 epochs)"
  "$PY" training/train_score.py --fold "$2" --features "$R/features" --init "$R/trunk.pt" --batch 8 --lr 1e-3 \
    --epochs "$3" --threads "$T" --resume --out "$R/$1"
}
heads() {  # heads SUFFIX FOLD: the first snapshot, then the same run continued (resumed from a copy)
  head_stage "score_$1" "$2" "$FIRST_EPOCHS"
  mkdir -p "$R/${H}_$1"
  [ -f "$R/${H}_$1/last.pt" ] || cp "$R/score_$1/last.pt" "$R/score_$1/log.jsonl" "$R/${H}_$1/"
  head_stage "${H}_$1" "$2" "$HEAD_EPOCHS"
}

if [ ! -f "$R/trunk.pt" ]; then
  echo "== trunk from $BUNDLE"
  "$PY" training/trunk_from_bundle.py --bundle "$BUNDLE" --out "$R/trunk.pt"
else echo "== trunk: present"; fi
if [ "$(ls "$R/features" 2>/dev/null | grep -c '_v1.pt$' || true)" -lt 144 ]; then
  echo "== features (512 px, as is + mirrored)"
  "$PY" training/cache_features.py --init "$R/trunk.pt" --out "$R/features" --size 512 --variants 2 --threads "$T"
else echo "== features: complete"; fi
for k in 0 1 2 3 4; do heads "fold$k" "$k"; done
heads all -1

echo "== out-of-fold predictions (mirrored, as the engine reads out) and calibration"
"$PY" training/oof_predictions.py --checkpoints "$R/score_fold{k}/last.pt" "$R/${H}_fold{k}/last.pt" --features "$R/features" --mirror \
  --out training/calibration/oof.json
"$PY" training/calibrate.py --oof training/calibration/oof.json --decision median \
  --json training/calibration/calibration.json > "$R/calibration.txt"
cat "$R/calibration.txt"
TEMP=$("$PY" -c "import json; print(round(json.load(open('training/calibration/calibration.json'))['temperature'], 4))")

echo "== 5-fold CV with the readout (two heads, median, mirrored, T $TEMP)"
"$PY" training/evaluate.py --checkpoints "$R/score_fold{k}/last.pt" "$R/${H}_fold{k}/last.pt" --features "$R/features" \
  --decision median --mirror --temperature "$TEMP" --out "$R/eval-$H"
"$PY" training/training_record.py --eval "$R/eval-$H/evaluation.json" \
  --recipe "training/head_run.sh with FIRST_EPOCHS=$FIRST_EPOCHS HEAD_EPOCHS=$HEAD_EPOCHS (two score heads) on the trunk of bsnet-brixia-own 0.2 (trained by training/budget_run.sh; docs/model-card.md)" \
  --out "$R/training-$H.json"

echo "== export $OUT_MODEL $VERSION"
"$PY" training/export_bundle.py --checkpoint "$R/${H}_all/last.pt" --extra-head "$R/score_all/last.pt" \
  --out "$OUT_MODEL" --overwrite \
  --training-json "$R/training-$H.json" --name "$SHIPPED_NAME" --version "$VERSION" \
  --intended-use "$INTENDED_USE" --licence "$SHIPPED_LICENCE" --notes "$SHIPPED_NOTES" \
  --readout-decision median --mirror-average \
  --readout-notes "median grade of the calibrated, mirror-averaged probabilities (minimises the expected absolute error; test-time mirroring: 2 forward passes); the CV figures in training.evaluation are measured with this readout (training/evaluate.py --decision median --mirror)"
"$PY" training/calibrate.py --oof training/calibration/oof.json --decision median --svg docs/img/reliability.svg \
  --manifest "$OUT_MODEL/model.json" \
  --fitted-on "out-of-fold predictions of the 144 labelled cohen images, read out as the engine reads them (mirror-averaged; median grade for the study confidence): the 5 CV folds' two heads of training/head_run.sh (FIRST_EPOCHS=$FIRST_EPOCHS HEAD_EPOCHS=$HEAD_EPOCHS) on the frozen shipped trunk" \
  > /dev/null
echo "done: $OUT_MODEL $VERSION (brixia model verify $OUT_MODEL)"
