"""Write the `training` record of model.json from the evaluation outputs (no figure is typed by hand).

  python training/training_record.py --eval runs/budget/eval/evaluation.json --seg runs/budget/seg_dice.json \
      --recipe "training/budget_run.sh (docs/model-card.md)" --out runs/budget/training.json
"""
import argparse
import json
from pathlib import Path


def line(name, m):
    r = "n/a" if m["global_pearson_r"] is None else f"{m['global_pearson_r']:.3f}"
    return (f"{name}: mean zone MAE {m['mean_zone_mae']:.3f}, global MAE {m['global_mae']:.3f}, "
            f"exact-grade accuracy {m['exact_grade_accuracy']:.3f}, Pearson r (global) {r}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", required=True, help="evaluation.json of evaluate.py")
    ap.add_argument("--seg", help="JSON of eval_seg.py (held-out Dice of the mask stage)")
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    ev = json.loads(Path(a.eval).read_text())
    c = ev["comparisons"]
    lines = [f"{ev['folds']}-fold cross-validation over {ev['n_images']} labelled images (seed {ev['seed']}, "
             f"stratified by the senior global score); every fold's score head never saw its test images"]
    ro = ev.get("readout")
    heads = ev.get("score_heads", 1)
    how = "" if not ro else (f" (readout {ro['decision']}" + (", mirrored" if ro.get("mirror") else "")
                             + (f", T {ro['temperature']}" if ro.get("temperature", 1) != 1 else "")
                             + (f", {heads} score heads averaged" if heads > 1 else "") + ")")
    for name in ("BS-Net (CV) vs senior", "BS-Net (CV) vs junior", "junior vs senior",
                 "median grade (train folds) vs senior"):
        if name in c:
            lines.append(line(name + (how if name.startswith("BS-Net") else ""), c[name]))
    if "severe_cases" in ev:
        s = ev["severe_cases"]
        lines.append(f"severe cases (senior global >= 12) scored >= 9: {s['scored_9_or_more']} of {s['n']}")
    if "mean_zone_mae_by_fold_vs_senior" in ev:
        folds = ev["mean_zone_mae_by_fold_vs_senior"]
        lines.append("mean zone MAE per fold vs senior, BS-Net / median grade of the training folds (margin): " + "; ".join(
            f"fold {k} {f['BS-Net']:.3f} / {f['median grade']:.3f} ({f['median grade'] - f['BS-Net']:.3f})"
            for k, f in sorted(folds.items())))
    if a.seg:
        s = json.loads(Path(a.seg).read_text())
        lines.append(f"lung mask stage: mean Dice {s['dice'].get('512')} at 512 px on the {s['images']} held-out "
                     f"masks of fold {s['fold']} (the mask stage was trained without fold {s['fold']})")
    rec = {"data": f"{ev['n_images']} chest X-rays of the COVID-19 image data collection (Cohen et al.) with the "
                   "BrixIA senior radiologist's Brixia scores, and the v7labs lung masks of 134 of them "
                   "(../shared/data/cohen)",
           "dataLicence": "annotations CC BY-NC-SA 4.0 (non-commercial, share-alike); images under their "
                          "per-image licences in the collection's metadata",
           "recipe": a.recipe, "evaluation": lines}
    Path(a.out).write_text(json.dumps(rec, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
