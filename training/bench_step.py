"""Time training steps of each stage on random data (to size a real run): seconds per image-step.

  python training/bench_step.py --size 512 --batch 2 --steps 2
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.model import BSNet  # noqa: E402
from bsnet.ops import bilinear_interpolation  # noqa: E402


def timed(fn, steps):
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t) / steps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    m = BSNet().train()
    x = torch.rand(a.batch, 1, a.size, a.size)
    opt = torch.optim.Adam(m.parameters(), 1e-4)

    def seg():
        logits, _ = m.segment(x)
        opt.zero_grad()
        logits.mean().backward()
        opt.step()

    def score():
        with torch.no_grad():
            logits, feats = m.segment(x)
            seg_ = torch.sigmoid(logits)
            theta = m.stn(seg_)
            aligned = bilinear_interpolation(seg_, theta)
        out = m.head(feats, theta, aligned)
        opt.zero_grad()
        out.mean().backward()
        opt.step()

    for name, fn in (("seg", seg), ("score", score)):
        s = timed(fn, a.steps)
        print(f"{name}: {s:.2f} s per step of {a.batch} at {a.size}px = {s / a.batch:.2f} s per image "
              f"({torch.get_num_threads()} threads)", flush=True)


if __name__ == "__main__":
    main()
