"""A training checkpoint holding a bundle's frozen stages (encoder, decoder, STN) and a FRESH score head.

  python training/trunk_from_bundle.py --bundle models/bsnet-brixia-own --out training/runs/oof/trunk.pt

Why: the shipped model's score head is the only part trained on the grades (docs/model-card.md); its
trunk was trained on lung masks. Re-training the head per CV fold on the shipped trunk gives honest
out-of-fold score predictions (training/oof_predictions.py) without the training runs, which are not in
the repository. The bundle's head is discarded and replaced by a seeded random initialisation, so no
fold head starts from weights that saw its test images' grades.
"""
import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.bundle import read_bundle_into  # noqa: E402
from bsnet.model import BSNet  # noqa: E402


def trunk_checkpoint(bundle, seed=0):
    """State of a BSNet with the bundle's encoder/decoder/STN and a seeded fresh head."""
    shipped = BSNet()
    manifest = read_bundle_into(shipped, bundle)
    torch.manual_seed(seed)
    fresh = BSNet()
    for part in ("encoder", "decoder", "stn"):
        getattr(fresh, part).load_state_dict(getattr(shipped, part).state_dict())
    return fresh, manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    model, manifest = trunk_checkpoint(a.bundle, a.seed)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    # "trained" names the stages that carry learned weights; "score" is deliberately absent.
    torch.save({"model": model.state_dict(), "optimizer": None, "epoch": -1, "stage": "trunk",
                "args": {"bundle": str(a.bundle), "weightsSha256": manifest["weights"]["sha256"], "seed": a.seed},
                "trained": ["align", "seg"], "untrained": ["score"]}, tmp)
    tmp.replace(out)
    print(f"[trunk] {out}: encoder/decoder/STN of {a.bundle} ({manifest['name']} {manifest['version']}), fresh head",
          flush=True)


if __name__ == "__main__":
    main()
