"""Shared training plumbing: seeding, checkpoints (resumable), progress lines, CLI flags."""
import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from .data import DEFAULT_DATA


def common_args(description, default_size, default_epochs, default_lr):
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="cohen data folder (images/, masks/, csv)")
    ap.add_argument("--out", required=True, help="run folder: checkpoints last.pt (+ epoch copies), log.jsonl")
    ap.add_argument("--init", help="checkpoint of the previous stage to start from")
    ap.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    ap.add_argument("--epochs", type=int, default=default_epochs)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=default_lr)
    ap.add_argument("--size", type=int, default=default_size, help="input size (multiple of 32; 512 = the real model)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke runs)")
    ap.add_argument("--fold", type=int, default=-1, help="CV fold to hold out (0..4, evaluate.py's folds); -1 = none")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0, help="seeds torch/numpy/random and the CV folds")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    return ap


def seed_everything(seed, threads=0):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)


def load_checkpoint(model, path, optimizer=None):
    state = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    return state


def save_checkpoint(path, model, optimizer, epoch, stage, args, trained, rng_state=True):
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer else None,
                "epoch": epoch, "stage": stage, "args": vars(args), "trained": sorted(trained),
                "untrained": sorted({"seg", "align", "score"} - set(trained)),
                "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),
                "python_rng": random.getstate()}, tmp)
    tmp.replace(path)  # atomic: an interrupted save never corrupts last.pt


def start(args, model, optimizer, stage):
    """Prepare the run folder; load --init or --resume. Returns (first epoch, set of trained stages)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trained, first = set(), 0
    if args.resume and (out / "last.pt").exists():
        st = load_checkpoint(model, out / "last.pt", optimizer)
        torch.set_rng_state(st["torch_rng"])
        np.random.set_state(st["numpy_rng"])
        random.setstate(st["python_rng"])
        first, trained = st["epoch"] + 1, set(st["trained"])
        print(f"resuming {stage} from {out / 'last.pt'} at epoch {first}", flush=True)
    elif args.resume:
        print(f"--resume: no {out / 'last.pt'} yet, starting fresh", flush=True)
    if first == 0 and args.init:
        st = load_checkpoint(model, args.init)
        trained = set(st["trained"])
        print(f"initialised from {args.init} (trained stages: {', '.join(sorted(trained)) or 'none'})", flush=True)
    (out / "args.json").write_text(json.dumps(vars(args), indent=2))
    return first, trained


class Progress:
    def __init__(self, out, stage):
        self.log = Path(out) / "log.jsonl"
        self.stage = stage
        self.t0 = time.time()

    def epoch(self, epoch, epochs, **vals):
        rec = {"stage": self.stage, "epoch": epoch, "elapsed_s": round(time.time() - self.t0, 1), **vals}
        with open(self.log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"[{self.stage}] epoch {epoch + 1}/{epochs} " + " ".join(
            f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in vals.items())
              + f" ({rec['elapsed_s']} s)", flush=True)


def batches(items, batch, rng):
    idx = rng.permutation(len(items))
    for i in range(0, len(idx), batch):
        yield [items[j] for j in idx[i:i + batch]]


def cached_record(features, i, filename, variant=0):
    """cache_features.py's record of labelled image `i`, augmentation `variant` (0: as is, 1: mirrored). Refuses a
    cache whose record is another image or variant than the annotations say."""
    name = f"{i:03d}_v{variant}.pt"
    rec = torch.load(Path(features) / name, weights_only=False)
    if rec["filename"] != filename or rec.get("variant", variant) != variant:
        raise SystemExit(f"{features}: {name} is {rec['filename']} variant {rec.get('variant')}, "
                         f"expected {filename} variant {variant}")
    return rec


def head_logits(model, rec):
    """The score head's (6,4) pre-softmax logits (region order, float64) on a cached record."""
    with torch.no_grad():
        return model.head.classify([g[None].float() for g in rec["gated"]])[0].double()


def cached_probabilities(models, features, i, filename, mirror=False):
    """What the engine reads grades from, on cached features: each head's softmax on the image as is, with `mirror`
    averaged with its mirror regions' in the flipped image (test-time mirroring), then the mean over `models`
    (the score heads of an ensemble). Each record is read once for all heads. Returns ((6,4) region-order
    probabilities, the record of the image as is)."""
    from .readout import mirror_average

    def heads_mean(rec):
        return np.mean([torch.softmax(head_logits(m, rec), -1).numpy() for m in models], 0)

    rec = cached_record(features, i, filename, 0)
    p = heads_mean(rec)
    if mirror:
        p = mirror_average(p, heads_mean(cached_record(features, i, filename, 1)))
    return p, rec
