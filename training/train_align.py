"""Stage 2: train the STN on synthetic transforms of the cohen lung masks (encoder/decoder untouched).

  python training/train_align.py --out runs/fold0/align --fold 0 --init runs/fold0/seg/last.pt --size 256 --epochs 250 --lr 1e-4

Target (as the authors' synthetic_alignment): the lung mask rotated upright by its principal-axis
orientation, cropped to its bounding box + 3 px and resized back, so the lungs fill the frame.
Input: that target distorted by a random rotation (<= 25 deg), scale and shift (<= 10 %), each with
p 0.8, elastic (alpha 60, sigma 12), grid distortion (5 steps, limit 0.3) and optical distortion (0.2 / 0.05, --p-optical) each with p 0.2. The STN
sees the distorted mask (as it sees the sigmoid segmentation in the full model) and the loss is
soft Dice between the authors' sampler applied to the input and the target.
"""
import sys
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.augment import warp  # noqa: E402
from bsnet.data import cv_folds, load_mask, read_annotations, read_masks, select  # noqa: E402
from bsnet.model import BSNet  # noqa: E402
from bsnet.ops import bilinear_interpolation  # noqa: E402
from bsnet.train_common import Progress, batches, common_args, save_checkpoint, seed_everything, start  # noqa: E402


def aligned_target(mask):
    """Rotate upright (principal axis vertical), crop to bbox + 3 px, resize to the original size."""
    size = mask.shape[0]
    yy, xx = np.nonzero(mask > 0.5)
    if len(yy) < 10:
        return mask
    y, x = yy - yy.mean(), xx - xx.mean()
    mu20, mu02, mu11 = (x * x).mean(), (y * y).mean(), (x * y).mean()
    # angle of the major axis from the vertical (row) axis, as skimage regionprops' orientation
    orientation = 0.5 * np.arctan2(2 * mu11, mu02 - mu20)
    # Correct tilt only: the pair of lungs can be wider than tall, and a 90-degree turn would be wrong.
    orientation = (orientation + np.pi / 4) % (np.pi / 2) - np.pi / 4
    rot = ndimage.rotate(mask, -np.rad2deg(orientation), reshape=False, order=1)
    yy, xx = np.nonzero(rot > 0.5)
    if len(yy) < 10:
        return mask
    y0, y1 = max(yy.min() - 3, 0), min(yy.max() + 4, size)
    x0, x1 = max(xx.min() - 3, 0), min(xx.max() + 4, size)
    crop = rot[y0:y1, x0:x1]
    t = torch.from_numpy(np.ascontiguousarray(crop, dtype=np.float64))[None, None]
    out = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0]
    return (out.numpy() > 0.5).astype(np.float32)


def soft_dice(a, b):
    inter = (a * b).sum((1, 2, 3))
    return (2 * inter + 1) / (a.sum((1, 2, 3)) + b.sum((1, 2, 3)) + 1)


def main(argv=None):
    ap = common_args(__doc__, default_size=512, default_epochs=100, default_lr=1e-4)
    ap.add_argument("--p-optical", type=float, default=0.2,
                    help="probability of the optical (lens) distortion (0 = as the shipped model 0.2 was trained)")
    args = ap.parse_args(argv)
    seed_everything(args.seed, args.threads)
    model = BSNet()
    opt = torch.optim.Adam(model.stn.parameters(), lr=args.lr)
    first, trained = start(args, model, opt, "align")
    rows = read_annotations(args.data)
    masks = read_masks(args.data)
    train = [r for r in select(rows, cv_folds(rows, args.folds, args.seed), args.fold, "train") if r["filename"] in masks]
    if args.limit:
        train = train[:args.limit]
    targets = [aligned_target((load_mask(masks[r["filename"]], args.size) == 1).astype(np.float32)) for r in train]
    print(f"[align] {len(targets)} aligned target masks at {args.size}px (fold {args.fold} held out)", flush=True)
    rng = np.random.default_rng(args.seed + 1000 * first)
    prog = Progress(args.out, "align")
    for epoch in range(first, args.epochs):
        model.train()
        losses, before, after, active = [], [], [], []
        for b in batches(targets, args.batch, rng):
            src = np.stack([np.clip(warp([t], rng, args.size, p_optical=args.p_optical)[0], 0, 1) for t in b])[:, None].astype(np.float32)
            x = torch.from_numpy(src)
            y = torch.from_numpy(np.stack(b))[:, None]
            theta = model.stn(x)
            active.append(float(theta.std(0).max() > 1e-6))  # a constant theta = dead ReLU layer in the STN
            aligned = bilinear_interpolation(x, theta)
            d = soft_dice(aligned, y)
            loss = 1 - d.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            after.append(d.mean().item())
            before.append(soft_dice(x, y).mean().item())
        save_checkpoint(Path(args.out) / "last.pt", model, opt, epoch, "align", args, trained | {"align"})
        prog.epoch(epoch, args.epochs, loss=float(np.mean(losses)), dice_unaligned=float(np.mean(before)),
                   dice_aligned=float(np.mean(after)), input_dependent=float(np.mean(active)))
        if not any(active):
            # With lr 1e-3 the STN's dense ReLU layer died after a few steps (every unit negative for every
            # input): theta becomes one constant and no gradient reaches the layers below. Say so loudly.
            print("[align] warning: theta is the same for every input (dead ReLU units); lower --lr", flush=True)
    print(f"[align] done: {Path(args.out) / 'last.pt'}", flush=True)


if __name__ == "__main__":
    main()
