"""Stage 3a: run the frozen stages once per labelled image and store what the score head consumes.

  python training/cache_features.py --init runs/x/align/last.pt --out runs/x/features --size 512 --variants 2

The score stage trains only the FPN and the six classifiers; encoder, decoder and STN are frozen, so
their output for a given input never changes. Computing it once per image (and per augmentation
variant) instead of in every epoch makes the score stage about 20x cheaper on a CPU, with the same
result for those inputs. Variant 0 is the image as is (used for evaluation), variant 1 its mirror image
(left/right zone columns swapped in the label), variants >= 2 a seeded small rotation/scale/shift with
gamma/contrast/brightness jitter. Per file: the four gated taps (ScoreHead.gate) as float16 (variant 0
float32), theta, the senior and junior labels in region order, and for variant 0 the thresholded
segmentation (for the Dice of the mask stage). Resumable: existing files are kept.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.augment import intensity, warp  # noqa: E402
from bsnet.data import DEFAULT_DATA, load_image, read_annotations, zones_to_grid  # noqa: E402
from bsnet.model import BSNet  # noqa: E402
from bsnet.ops import bilinear_interpolation  # noqa: E402
from bsnet.train_common import load_checkpoint  # noqa: E402


def variant(img, senior, junior, v, rng):
    """Input image and labels (region order A,D,B,E,C,F) of augmentation variant v."""
    s, j = zones_to_grid(senior).reshape(6), zones_to_grid(junior).reshape(6)
    if v == 1:
        img = img[:, ::-1].copy()
        s, j = (lab.reshape(3, 2)[:, ::-1].reshape(6).copy() for lab in (s, j))
    elif v >= 2:
        img = warp([img], rng, img.shape[0], rot=5, scale=0.05, shift=0.03, p_affine=1.0, p_elastic=0, p_grid=0)[0]
        img = intensity(img, rng)
    return img, s, j


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--init", required=True, help="checkpoint with the trained seg + align stages")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--variants", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    model = BSNet().eval()
    st = load_checkpoint(model, a.init)
    missing = {"seg", "align"} - set(st["trained"])
    if missing:
        print(f"[cache] warning: {a.init} lacks trained stages {', '.join(sorted(missing))}", flush=True)
    rows = read_annotations(a.data)
    if a.limit:
        rows = rows[:a.limit]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0, done = time.time(), 0
    total = len(rows) * a.variants
    for i, r in enumerate(rows):
        base = load_image(Path(a.data) / "images" / r["filename"], a.size)
        for v in range(a.variants):
            f = out / f"{i:03d}_v{v}.pt"
            done += 1
            if f.exists():
                continue
            rng = np.random.default_rng([a.seed, i, v])
            img, s, j = variant(base, r["senior"], r["junior"], v, rng)
            x = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None, None]
            with torch.no_grad():
                logits, feats = model.segment(x)
                seg = torch.sigmoid(logits)
                theta = model.stn(seg)
                aligned = bilinear_interpolation(seg, theta)
                gated = model.head.gate(feats, theta, aligned)
            rec = {"filename": r["filename"], "variant": v, "init": str(a.init), "senior": torch.from_numpy(s), "junior": torch.from_numpy(j),
                   "theta": theta[0].clone(),
                   "gated": [g[0].clone() if v == 0 else g[0].half() for g in gated]}
            if v == 0:
                rec["seg"] = (seg[0, 0] > 0.5).to(torch.uint8)
            tmp = f.with_suffix(".tmp")
            torch.save(rec, tmp)
            tmp.replace(f)
            el = time.time() - t0
            print(f"[cache] {done}/{total} {r['filename']} v{v} ({el:.0f} s)", flush=True)
    print(f"[cache] done: {total} files in {out}", flush=True)


if __name__ == "__main__":
    main()
