"""Compare a model bundle run by the Swift engine with the float32 PyTorch checkpoint it was exported from.

  python training/check_bundle_parity.py --checkpoint runs/budget/score_all/last.pt \
      --bundle models/bsnet-brixia-own --brixia .build/release/brixia --input ../shared/.../input_cxr.npy

With --extra-head (a bundle of several score heads, model.json scoreHeads) the reference is the mean of the
heads' softmaxes, as the engine's ensemble. The bar is max |scores difference| <= 1e-3 between
the float32 PyTorch model and the engine running the float16-stored bundle (in float32). Prints the
maximum absolute differences of seg, theta and scores and whether the argmax grades agree.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.model import BSNet  # noqa: E402
from bsnet.train_common import load_checkpoint  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--extra-head", action="append", default=[], metavar="CHECKPOINT",
                    help="the checkpoints of the bundle's other score heads, in export order")
    ap.add_argument("--brixia", required=True, help="brixia executable")
    ap.add_argument("--input", required=True, nargs="+", help="(1,512,512,1) float32 .npy input(s)")
    a = ap.parse_args(argv)
    model = BSNet().eval()
    load_checkpoint(model, a.checkpoint)
    others = []
    for f in a.extra_head:
        m = BSNet().eval()
        load_checkpoint(m, f)
        others.append(m)
    worst = 0.0
    for inp in a.input:
        x = np.load(inp).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x).permute(0, 3, 1, 2))
            if others:
                ref["scores"] = torch.stack([ref["scores"]] + [m(torch.from_numpy(x).permute(0, 3, 1, 2))["scores"]
                                                               for m in others]).mean(0)
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([a.brixia, "infer", "--model", a.bundle, "--input", inp, "--out", out], check=True,
                           capture_output=True)
            seg = np.load(Path(out) / "seg.npy")
            theta = np.load(Path(out) / "affine.npy")
            scores = np.load(Path(out) / "scores.npy")
        d_seg = np.abs(seg[..., 0] - ref["seg"][:, 0].numpy()).max()
        d_theta = np.abs(theta - ref["theta"].numpy()).max()
        d_scores = np.abs(scores - ref["scores"].numpy()).max()
        same = bool((scores.argmax(-1) == ref["scores"].numpy().argmax(-1)).all())
        worst = max(worst, d_scores)
        print(f"{Path(inp).name}: max |diff| seg {d_seg:.2e}, theta {d_theta:.2e}, scores {d_scores:.2e}, "
              f"same grades: {same}")
    print(f"worst scores difference {worst:.2e} ({'within' if worst <= 1e-3 else 'ABOVE'} 1e-3)")
    return 0 if worst <= 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
