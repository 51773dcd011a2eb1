"""Stage 1: train the encoder + U-Net++ decoder on the cohen lung masks (from scratch: no ImageNet here).

  python training/train_seg.py --out runs/fold0/seg --fold 0 --size 256 --epochs 60
  python training/train_seg.py --out runs/fold0/seg --fold 0 --size 512 --epochs 20 --init runs/fold0/seg/last.pt --lr 3e-4

Loss: BCE + soft Dice on the labelled pixels only (mask value 127 = ignore is left out). Lower
resolution is fine for pretraining: the network is fully convolutional.
"""
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.augment import intensity, warp  # noqa: E402
from bsnet.data import cv_folds, load_image, load_mask, read_annotations, read_masks, select  # noqa: E402
from bsnet.model import BSNet  # noqa: E402
from bsnet.train_common import Progress, batches, common_args, save_checkpoint, seed_everything, start  # noqa: E402


def seg_loss(logits, mask):
    """mask: 0 bg, 1 lung, 2 ignore."""
    valid = (mask != 2).float()
    target = (mask == 1).float()
    bce = (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * valid).sum() / valid.sum().clamp(min=1)
    p = torch.sigmoid(logits) * valid
    inter = (p * target).sum((1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum((1, 2, 3)) + target.sum((1, 2, 3)) + 1)
    return bce + dice.mean(), float(1 - dice.mean().detach())


def load_items(args):
    rows = read_annotations(args.data)
    masks = read_masks(args.data)
    train = select(rows, cv_folds(rows, args.folds, args.seed), args.fold, "train")
    train = [r for r in train if r["filename"] in masks]
    if args.limit:
        train = train[:args.limit]
    items = []
    for r in train:
        items.append((load_image(Path(args.data) / "images" / r["filename"], args.size),
                      load_mask(masks[r["filename"]], args.size).astype(np.float32)))
    return items


def main(argv=None):
    ap = common_args(__doc__, default_size=256, default_epochs=60, default_lr=1e-3)
    args = ap.parse_args(argv)
    seed_everything(args.seed, args.threads)
    model = BSNet()
    params = list(model.encoder.parameters()) + list(model.decoder.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    first, trained = start(args, model, opt, "seg")
    items = load_items(args)
    print(f"[seg] {len(items)} masked training images at {args.size}px (fold {args.fold} held out)", flush=True)
    rng = np.random.default_rng(args.seed + 1000 * first)
    prog = Progress(args.out, "seg")
    for epoch in range(first, args.epochs):
        model.train()
        losses, dices = [], []
        for b in batches(items, args.batch, rng):
            xs, ms = [], []
            for img, m in b:
                img2, m2 = warp([img, m], rng, args.size, rot=10, scale=0.1, shift=0.05, p_elastic=0.1,
                                p_grid=0.1, orders=[1, 0])
                xs.append(intensity(img2, rng))
                ms.append(m2)
            x = torch.from_numpy(np.stack(xs))[:, None]
            m = torch.from_numpy(np.stack(ms))[:, None]
            logits, _ = model.segment(x)
            loss, dice = seg_loss(logits, m)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            dices.append(dice)
        save_checkpoint(Path(args.out) / "last.pt", model, opt, epoch, "seg", args, trained | {"seg"})
        prog.epoch(epoch, args.epochs, loss=float(np.mean(losses)), train_dice=float(np.mean(dices)))
    print(f"[seg] done: {Path(args.out) / 'last.pt'}", flush=True)


if __name__ == "__main__":
    main()
