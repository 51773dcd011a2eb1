"""Export BS-Net weights to a Brixia model bundle.

  python training/export_bundle.py --checkpoint runs/score/last.pt --out models/bsnet-own --name bsnet-brixia-own --version 0.1
  python training/export_bundle.py --keras-h5 bscore-model.h5 --out DIR ...   (h5 -> PyTorch -> bundle)
"""
import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.bundle import write_bundle  # noqa: E402
from bsnet.model import BSNet  # noqa: E402
from bsnet.readout import DECISIONS  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="training checkpoint (.pt) written by train_*.py")
    src.add_argument("--keras-h5", nargs="+", help="Keras save_weights h5 file(s), applied in order")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--float16", action="store_true")
    ap.add_argument("--licence")
    ap.add_argument("--notes")
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--intended-use", help="intendedUse statement (default: research use only, not for diagnosis)")
    ap.add_argument("--training-json", help="JSON object {data, dataLicence, recipe, evaluation: [lines]} for model.json")
    ap.add_argument("--extra-head", action="append", default=[], metavar="CHECKPOINT",
                    help="another training checkpoint with the same trunk: its score head is added to the bundle "
                         "(repeatable; the engine averages the heads' probabilities, model.json scoreHeads)")
    ap.add_argument("--readout-decision", choices=DECISIONS,
                    help="model.json readout: how the engine turns probabilities into grades (absent: argmax)")
    ap.add_argument("--mirror-average", action="store_true",
                    help="model.json readout: test-time mirroring (needs --readout-decision)")
    ap.add_argument("--readout-notes", help="model.json readout notes (why this readout, with its CV figures)")
    a = ap.parse_args(argv)
    if (a.mirror_average or a.readout_notes) and not a.readout_decision:
        ap.error("--mirror-average and --readout-notes need --readout-decision")
    readout = None
    if a.readout_decision:
        readout = {"decision": a.readout_decision, "mirrorAverage": a.mirror_average}
        if a.readout_notes:
            readout["notes"] = a.readout_notes
    if a.extra_head and not a.checkpoint:
        ap.error("--extra-head needs --checkpoint")
    model = BSNet().eval()
    sources = []
    files = [a.checkpoint, *a.extra_head] if a.checkpoint else a.keras_h5  # every file recorded in provenance
    for f in files:
        p = Path(f)
        if not p.is_file():
            ap.error(f"{f}: no such file")
        sources.append({"name": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size})
    if a.checkpoint:
        from bsnet.train_common import load_checkpoint
        state = load_checkpoint(model, a.checkpoint)  # our own training checkpoints (full pickle)
        missing = state.get("untrained", [])
        if missing:
            print(f"warning: checkpoint stages never trained (random weights): {', '.join(missing)}")
    else:
        from bsnet.keras_h5 import load_keras_h5
        load_keras_h5(model, *a.keras_h5)
    extra_heads = []
    for f in a.extra_head:
        import torch
        from bsnet.train_common import load_checkpoint
        other = BSNet().eval()
        st = load_checkpoint(other, f)
        if "score" not in st.get("trained", []):
            ap.error(f"{f}: its score head was never trained")
        # One trunk for all heads: a head trained on other features would be averaged with nonsense.
        for part in ("encoder", "decoder", "stn"):
            mine, theirs = getattr(model, part).state_dict(), getattr(other, part).state_dict()
            if any(not torch.equal(mine[k], theirs[k]) for k in mine):
                ap.error(f"{f}: its {part} differs from {a.checkpoint}'s: extra heads must share the trunk")
        extra_heads.append(other.head)
    training = None
    if a.training_json:
        import json
        training = json.loads(Path(a.training_json).read_text())
        if set(training) != {"data", "dataLicence", "recipe", "evaluation"} or not isinstance(training["evaluation"], list):
            ap.error(f"{a.training_json}: needs exactly the keys data, dataLicence, recipe, evaluation (a list)")
    m = write_bundle(model, a.out, a.name, a.version, "F16" if a.float16 else "F32", a.licence, sources,
                     a.notes, a.overwrite, training=training,
                     intended_use=a.intended_use, readout=readout, extra_heads=extra_heads)
    w = m["weights"]
    print(f"done: {w['tensorCount']} tensors, {w['parameterCount']} parameters, {w['dtype']}, "
          f"{1 + len(extra_heads)} score head(s)")
    print(f"weights SHA-256: {w['sha256']}")
    print(f"bundle: {a.out}")


if __name__ == "__main__":
    main()
