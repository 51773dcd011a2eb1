"""Dice of the mask stage on the held-out fold, at one or more input sizes.

  python training/eval_seg.py --checkpoint runs/budget/seg128/last.pt --fold 0 --sizes 128 256 512

The mask stage may be trained at a lower resolution than the 512 px it runs at; this shows what that
costs. Dice is computed at each input size against the cohen mask resized (nearest) to that size,
with the ignore label (127) left out, over the images of fold `--fold` that have a mask.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.data import (DEFAULT_DATA, cv_folds, load_image, load_mask, mask_dice, read_annotations,  # noqa: E402
                        read_masks, select)
from bsnet.model import BSNet  # noqa: E402
from bsnet.train_common import load_checkpoint  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", help="also write the result here")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    model = BSNet().eval()
    st = load_checkpoint(model, a.checkpoint)
    rows = read_annotations(a.data)
    masks = read_masks(a.data)
    test = [r for r in select(rows, cv_folds(rows, a.folds, a.seed), a.fold, "test") if r["filename"] in masks]
    if a.limit:
        test = test[:a.limit]
    res = {"checkpoint": a.checkpoint, "epoch": st.get("epoch"), "fold": a.fold, "images": len(test), "dice": {}}
    for size in a.sizes:
        ds = []
        for r in test:
            x = torch.from_numpy(load_image(Path(a.data) / "images" / r["filename"], size))[None, None]
            with torch.no_grad():
                logits, _ = model.segment(x)
            ds.append(mask_dice(logits[0, 0].numpy() > 0, load_mask(masks[r["filename"]], size)))
        res["dice"][str(size)] = round(float(np.mean(ds)), 4)
        print(f"fold {a.fold}, {len(test)} held-out masks, input {size} px: mean Dice {np.mean(ds):.4f} "
              f"(min {np.min(ds):.3f})", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
