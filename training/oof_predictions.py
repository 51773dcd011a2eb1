"""Out-of-fold (OOF) score-head logits of the 144 labelled Cohen images: the calibration set.

  python training/oof_predictions.py --checkpoints "training/runs/oof/score_fold{k}/last.pt" \
      --features training/runs/oof/features --out training/calibration/oof.json

Each image is scored by the head of the CV fold that held it out (bsnet.data.cv_folds, the folds of
evaluate.py and of the shipped model's figures), on the frozen-stage features of cache_features.py
(variant 0: the image as is; with --mirror the engine's test-time mirroring: probabilities averaged with
variant 1, the image flipped left/right, mirror zones swapped, written as their logarithms). Output: JSON with, per image, its fold, the senior grades (zones A..F)
and the six zones' pre-softmax logits (zones A..F, grades 0..3). No image data, no patient data.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.data import DEFAULT_DATA, cv_folds, read_annotations  # noqa: E402

# region r = 2*row + col holds zone (A,D,B,E,C,F)[r]; zones A..F are regions (0,2,4,1,3,5)
REGION_OF_ZONE = [0, 2, 4, 1, 3, 5]


def main(argv=None):
    from bsnet.model import BSNet
    from bsnet.train_common import cached_probabilities, cached_record, head_logits, load_checkpoint

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--checkpoints", required=True, nargs="+",
                    help="pattern with {k}, e.g. runs/oof/score_fold{k}/last.pt; several: the heads of an ensemble "
                         "(probabilities averaged, as model.json scoreHeads)")
    ap.add_argument("--features", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--mirror", action="store_true", help="the readout's test-time mirroring (variant 1)")
    a = ap.parse_args(argv)
    rows = read_annotations(a.data)
    fold = cv_folds(rows, a.folds, a.seed)
    images = [None] * len(rows)
    meta = {}
    for k in range(a.folds):
        models, meta[str(k)] = [], []
        for pattern in a.checkpoints:
            path = pattern.format(k=k)
            model = BSNet().eval()
            st = load_checkpoint(model, path)
            if st["args"].get("fold") != k:
                raise SystemExit(f"{path}: trained with --fold {st['args'].get('fold')}, expected {k}")
            meta[str(k)].append({"checkpoint": path, "epochs": st["epoch"] + 1, "init": st["args"].get("init")})
            models.append(model)
        if len(models) == 1:
            meta[str(k)] = meta[str(k)][0]
        for i in np.nonzero(fold == k)[0]:
            if len(models) == 1 and not a.mirror:
                logits6 = head_logits(models[0], cached_record(a.features, i, rows[i]["filename"], 0)).numpy()
            else:  # the log of the mean probabilities: the heads' mean (ensemble) and/or the mirror average
                p = cached_probabilities(models, a.features, i, rows[i]["filename"], a.mirror)[0]
                logits6 = np.log(np.maximum(p, 1e-12))
            images[i] = {"filename": rows[i]["filename"], "fold": int(k),
                         "senior": [int(g) for g in rows[i]["senior"]],
                         "logits": [[round(float(v), 5) for v in logits6[r]] for r in REGION_OF_ZONE]}
        print(f"fold {k}: {int((fold == k).sum())} images", flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"description": "out-of-fold score-head logits (zones A..F, grades 0..3) of the "
                               "labelled Cohen images; labels: senior radiologist"
                               + ("; mirror-averaged: log of the mean probabilities of the image and its mirror image"
                                  if a.mirror else "")
                               + (f"; {len(a.checkpoints)} score heads averaged" if len(a.checkpoints) > 1 else ""), "seed": a.seed, "mirror": a.mirror,
                               "folds": meta, "images": images}, indent=1) + "\n")
    print(f"wrote {out} ({len(images)} images)")


if __name__ == "__main__":
    main()
