"""Stage 1b: recompute the mask stage's BatchNorm statistics at the input size the model runs at.

  python training/recalibrate_bn.py --init runs/x/seg256/last.pt --out runs/x/seg512bn --fold 0 --size 512

The mask stage is trained at 128/256 px for budget, and Keras-style running statistics (momentum 0.99)
lag behind the weights; both make inference-mode features at 512 px differ from training. This pass
runs the encoder + decoder in training mode over the training-fold images (the held-out fold is never
used, so its Dice stays a held-out figure) and stores the exact average batch statistics
(bsnet.recalibrate). No weight changes. Writes <out>/last.pt and a one-line log.jsonl.
"""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.data import cv_folds, load_image, read_annotations, select  # noqa: E402
from bsnet.model import BSNet  # noqa: E402
from bsnet.recalibrate import recalibrate_bn  # noqa: E402
from bsnet.train_common import Progress, common_args, save_checkpoint, seed_everything, start  # noqa: E402


def main(argv=None):
    ap = common_args(__doc__, default_size=512, default_epochs=1, default_lr=0.0)
    args = ap.parse_args(argv)
    if not args.init:
        ap.error("give --init (the trained mask stage)")
    seed_everything(args.seed, args.threads)
    model = BSNet()
    args.resume = False  # one deterministic pass; rerunning recomputes the same statistics
    _, trained = start(args, model, None, "bn")
    rows = read_annotations(args.data)
    train = select(rows, cv_folds(rows, args.folds, args.seed), args.fold, "train")
    if args.limit:
        train = train[:args.limit]
    names = [r["filename"] for r in train]
    prog = Progress(args.out, "bn")

    def run():
        for i in range(0, len(names), args.batch):
            x = np.stack([load_image(Path(args.data) / "images" / n, args.size) for n in names[i:i + args.batch]])
            model.segment(torch.from_numpy(x)[:, None])
            print(f"[bn] {min(i + args.batch, len(names))}/{len(names)} images at {args.size}px", flush=True)

    n = recalibrate_bn(torch.nn.ModuleList([model.encoder, model.decoder]), run)
    save_checkpoint(Path(args.out) / "last.pt", model, None, 0, "bn", args, trained)
    prog.epoch(0, 1, bn_layers=n, images=len(names), size=args.size)
    print(f"[bn] done: {n} BatchNorm layers recalibrated -> {Path(args.out) / 'last.pt'}", flush=True)


if __name__ == "__main__":
    main()
