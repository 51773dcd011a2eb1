"""Stage 3: train the score head (FPN + 6 RetinaNet classifiers) on the senior Brixia grades.

  python training/train_score.py --out runs/fold0/score --fold 0 --init runs/fold0/align/last.pt --size 512 --epochs 60

Encoder, decoder and STN are frozen (inference-mode BatchNorm, no gradients), as in the authors'
from-part-to-whole training. Loss per region: cross-entropy + --mae-weight * |E[grade] - label|, the
expected grade under the softmax being a differentiable stand-in for the MAE. Augmentation:
horizontal flip with the left/right zone columns swapped (p 0.5), small rotation/scale/shift, and
gamma/contrast/brightness jitter.

With --features DIR (written by cache_features.py from the same frozen stages) the frozen part is not
rerun: each step draws one of the cached variants of every image (as is, mirrored, jittered) and trains
the head on it. Same loss, same head, a fixed set of augmentations instead of fresh ones per epoch.
"""
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.augment import intensity, warp  # noqa: E402
from bsnet.data import cv_folds, load_image, read_annotations, select, zones_to_grid  # noqa: E402
from bsnet.model import BSNet  # noqa: E402
from bsnet.ops import bilinear_interpolation  # noqa: E402
from bsnet.recalibrate import recalibrate_bn  # noqa: E402
from bsnet.train_common import Progress, batches, common_args, save_checkpoint, seed_everything, start  # noqa: E402


def load_features(folder, filenames, init=None):
    """[[cached variant records] per name in `filenames`] (cache_features.py output).

    The cache must come from the same frozen stages as --init, or the head would train on features the
    exported model never produces."""
    wanted = set(filenames)
    out = {}
    for f in sorted(Path(folder).glob("*_v*.pt")):
        rec = torch.load(f, weights_only=False)
        if init and rec.get("init") != str(init):
            raise SystemExit(f"{f}: cached from {rec.get('init')}, but --init is {init}")
        if rec["filename"] in wanted:
            out.setdefault(rec["filename"], []).append(rec)
    missing = wanted - set(out)
    if missing:
        raise SystemExit(f"{folder}: no cached features for {len(missing)} training images "
                         f"(e.g. {sorted(missing)[0]}): run cache_features.py first")
    return [out[n] for n in filenames]


def cached_batch(b, rng):
    recs = [variants[rng.integers(len(variants))] for variants in b]
    gated = [torch.stack([r["gated"][t].float() for r in recs]) for t in range(4)]
    y = torch.stack([r["senior"] for r in recs]).long()
    j = torch.stack([r["junior"] for r in recs]).long()
    return gated, y, j

GRADES = torch.arange(4, dtype=torch.float32)


def score_loss(logits6, labels6, mae_weight, junior6=None, junior_weight=0.0):
    """logits6 (B,6,4), labels6 (B,6) in region order r = 2*row+col. With `junior6` and `junior_weight` w
    the cross-entropy target is the readers' soft label (1-w) senior + w junior (label noise between readers);
    the MAE term stays against the senior reader, the evaluation reference."""
    if junior6 is not None and junior_weight > 0:
        target = (1 - junior_weight) * F.one_hot(labels6.reshape(-1), 4).float() \
            + junior_weight * F.one_hot(junior6.reshape(-1), 4).float()
        ce = F.cross_entropy(logits6.reshape(-1, 4), target)
    else:
        ce = F.cross_entropy(logits6.reshape(-1, 4), labels6.reshape(-1))
    expected = (torch.softmax(logits6, -1) * GRADES).sum(-1)
    mae = (expected - labels6.float()).abs().mean()
    return ce + mae_weight * mae, mae


def freeze_lower_stages(model):
    for part in (model.encoder, model.decoder, model.stn):
        part.eval()
        for p in part.parameters():
            p.requires_grad_(False)


def augmented_step_inputs(model, b, rng, size):
    """Head logits and labels of a batch of fresh augmentations run through the frozen stages."""
    xs, ys = [], []
    for img, lab in b:
        lab = lab.copy()
        if rng.random() < 0.5:  # mirror: image-left <-> image-right columns swap
            img = img[:, ::-1].copy()
            lab = lab.reshape(3, 2)[:, ::-1].reshape(6).copy()
        img = warp([img], rng, size, rot=5, scale=0.05, shift=0.03, p_affine=0.5, p_elastic=0, p_grid=0)[0]
        xs.append(intensity(img, rng))
        ys.append(lab)
    x = torch.from_numpy(np.stack(xs))[:, None]
    y = torch.from_numpy(np.stack(ys)).long()
    with torch.no_grad():
        logits, feats = model.segment(x)
        seg = torch.sigmoid(logits)
        theta = model.stn(seg)
        aligned = bilinear_interpolation(seg, theta)
    return model.head(feats, theta, aligned), y


def recalibrate_head_bn(model, items, args):
    """Keras-style running statistics (momentum 0.99) lag far behind after a few hundred steps: replace the
    head's by the exact average over the training inputs (every cached variant, or one fresh augmentation
    per image), so inference mode matches what the head was trained on."""
    rng = np.random.default_rng(args.seed)

    def run():
        for b in batches(items, args.batch, rng):
            if args.features:
                recs = [v for variants in b for v in variants]
                model.head.classify([torch.stack([r["gated"][t].float() for r in recs]) for t in range(4)])
            else:
                augmented_step_inputs(model, b, rng, args.size)

    freeze_lower_stages(model)
    return recalibrate_bn(model.head, run)


def main(argv=None):
    ap = common_args(__doc__, default_size=512, default_epochs=60, default_lr=1e-4)
    ap.add_argument("--mae-weight", type=float, default=0.3)
    ap.add_argument("--features", help="folder of cache_features.py output: train the head on cached inputs")
    ap.add_argument("--junior-weight", type=float, default=0.0,
                    help="weight of the junior reader in a soft cross-entropy target (needs --features)")
    args = ap.parse_args(argv)
    if args.junior_weight and not args.features:
        raise SystemExit("--junior-weight needs --features (the cache carries both readers' labels)")
    seed_everything(args.seed, args.threads)
    model = BSNet()
    opt = torch.optim.Adam(model.head.parameters(), lr=args.lr)
    first, trained = start(args, model, opt, "score")
    missing = {"seg", "align"} - trained
    if missing:
        print(f"[score] warning: lower stages not trained ({', '.join(sorted(missing))}): give --init", flush=True)
    rows = read_annotations(args.data)
    train = select(rows, cv_folds(rows, args.folds, args.seed), args.fold, "train")
    if args.limit:
        train = train[:args.limit]
    if args.features:
        items = load_features(args.features, [r["filename"] for r in train], args.init)
        print(f"[score] {len(items)} labelled training images, {sum(map(len, items))} cached variants "
              f"(fold {args.fold} held out)", flush=True)
    else:
        items = [(load_image(Path(args.data) / "images" / r["filename"], args.size),
                  zones_to_grid(r["senior"]).reshape(6)) for r in train]  # region order A,D,B,E,C,F
        print(f"[score] {len(items)} labelled training images at {args.size}px (fold {args.fold} held out)",
              flush=True)
    rng = np.random.default_rng(args.seed + 1000 * first)
    prog = Progress(args.out, "score")
    for epoch in range(first, args.epochs):
        model.train()
        freeze_lower_stages(model)
        losses, maes, accs = [], [], []
        for b in batches(items, args.batch, rng):
            if args.features:
                gated, y, j = cached_batch(b, rng)
                logits6 = model.head.classify(gated)
            else:
                logits6, y = augmented_step_inputs(model, b, rng, args.size)
                j = None
            loss, mae = score_loss(logits6, y, args.mae_weight, j, args.junior_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            maes.append(mae.item())
            accs.append((logits6.argmax(-1) == y).float().mean().item())
        if epoch == args.epochs - 1:  # before the last save, so a finished last.pt always carries it
            n = recalibrate_head_bn(model, items, args)
            print(f"[score] {n} BatchNorm layers of the head recalibrated on the training inputs", flush=True)
        save_checkpoint(Path(args.out) / "last.pt", model, opt, epoch, "score", args, trained | {"score"})
        prog.epoch(epoch, args.epochs, loss=float(np.mean(losses)), soft_mae=float(np.mean(maes)),
                   train_acc=float(np.mean(accs)))
    print(f"[score] done: {Path(args.out) / 'last.pt'}", flush=True)


if __name__ == "__main__":
    main()
