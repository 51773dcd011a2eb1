"""5-fold cross-validated evaluation of BS-Net on the labelled Cohen images, with baselines.

  python training/evaluate.py --baselines-only --out runs/eval            # no network needed
  python training/evaluate.py --checkpoints 'runs/fold{k}/score/last.pt' --out runs/eval

Folds are fixed by --seed and stratified by the senior global score (bsnet.data.cv_folds); train each
fold's model with `--fold k` on the training scripts so no test image is seen in training.
Writes <out>/evaluation.json and <out>/evaluation.md.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.data import DEFAULT_DATA, cv_folds, read_annotations  # noqa: E402
from bsnet.readout import DECISIONS, decide, temperature_scale  # noqa: E402


def metrics(pred, ref):
    """pred, ref: (N,6) integer grades. Per-zone MAE, mean zone MAE, global MAE, accuracy, Pearson r, confusion."""
    pred, ref = np.asarray(pred), np.asarray(ref)
    pg, rg = pred.sum(1), ref.sum(1)
    conf = np.zeros((4, 4), np.int64)
    for t, p in zip(ref.ravel(), pred.ravel()):
        conf[t, p] += 1
    r = float(np.corrcoef(pg, rg)[0, 1]) if pg.std() > 0 and rg.std() > 0 else None
    return {"n": int(len(ref)),
            "zone_mae": dict(zip("ABCDEF", np.abs(pred - ref).mean(0).round(4).tolist())),
            "mean_zone_mae": round(float(np.abs(pred - ref).mean()), 4),
            "global_mae": round(float(np.abs(pg - rg).mean()), 4),
            "exact_grade_accuracy": round(float((pred == ref).mean()), 4),
            "global_pearson_r": None if r is None else round(r, 4),
            "confusion_rows_true_cols_pred": conf.tolist()}


def median_predictor(rows, fold):
    """Per zone, the median senior grade of the training folds, predicted for every test image."""
    pred = np.zeros((len(rows), 6), np.int64)
    for k in np.unique(fold):
        train = np.stack([r["senior"] for r, f in zip(rows, fold) if f != k])
        med = np.floor(np.median(train, 0) + 0.5).astype(np.int64)  # round half up
        pred[fold == k] = med
    return pred


def fold_predictions(rows, fold, patterns, data_dir, predict):
    """Grades (N,6) A..F and [(fold, Dice)] with each fold's checkpoints; predict(models, i, name) -> (grid, seg)
    with grid the (3,2) grades [[A,D],[B,E],[C,F]] and seg the boolean lung mask at the model input size.
    `patterns`: one path pattern with {k} per score head (several: an ensemble, as model.json scoreHeads)."""
    from bsnet.data import load_mask, mask_dice, read_masks
    from bsnet.model import BSNet
    from bsnet.train_common import load_checkpoint
    if isinstance(patterns, str):
        patterns = [patterns]
    masks = read_masks(data_dir)
    pred = np.zeros((len(rows), 6), np.int64)
    dice = []
    for k in np.unique(fold):
        models = []
        for pattern in patterns:
            model = BSNet().eval()
            load_checkpoint(model, pattern.format(k=k))
            models.append(model)
        for i in np.nonzero(fold == k)[0]:
            name = rows[i]["filename"]
            grid, seg = predict(models, i, name)
            pred[i] = grid.T.reshape(6)
            if name in masks:
                dice.append((int(k), mask_dice(seg, load_mask(masks[name], seg.shape[0]))))
        print(f"fold {k}: {int((fold == k).sum())} images scored", flush=True)
    return pred, dice


def model_predictions(rows, fold, pattern, data_dir, size):
    import torch
    from bsnet.data import load_image

    def predict(models, i, name):
        x = torch.from_numpy(load_image(Path(data_dir) / "images" / name, size))[None, None]
        with torch.no_grad():
            outs = [m(x) for m in models]
        scores = torch.stack([o["scores"][0] for o in outs]).mean(0)  # the heads' mean (one trunk: same seg)
        return scores.argmax(-1).numpy(), outs[0]["seg"][0, 0].numpy() > 0.5

    return fold_predictions(rows, fold, pattern, data_dir, predict)


def cached_predictions(rows, fold, pattern, features, data_dir, decision="argmax", mirror=False, temperature=1.0):
    """As model_predictions, from cache_features.py's variant-0 records (the frozen stages' exact float32
    output for the unaugmented image) instead of rerunning the frozen stages per fold. With the engine's
    readout (bsnet/readout.py): `mirror` averages with variant 1 (the image flipped left/right), then the
    probabilities are temperature-scaled and the grade is chosen by `decision`."""
    from bsnet.train_common import cached_probabilities

    def predict(models, i, name):  # several models: the heads' mean, as the engine's ensemble mean node
        p, rec = cached_probabilities(models, features, i, name, mirror)
        g = decide(temperature_scale(p, temperature), decision)
        return g.reshape(3, 2), rec["seg"].numpy().astype(bool)

    return fold_predictions(rows, fold, pattern, data_dir, predict)


def markdown(res):
    lines = [f"Cohen subset, {res['n_images']} labelled images, {res['folds']}-fold CV (seed {res['seed']}), "
             "zone grades 0-3, global 0-18.", "",
             "| comparison | mean zone MAE | A | B | C | D | E | F | global MAE | exact-grade acc. | Pearson r (global) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, m in res["comparisons"].items():
        z = m["zone_mae"]
        lines.append(f"| {name} | {m['mean_zone_mae']:.3f} | " + " | ".join(f"{z[c]:.3f}" for c in "ABCDEF")
                     + f" | {m['global_mae']:.3f} | {m['exact_grade_accuracy']:.3f} | "
                     + ("n/a" if m["global_pearson_r"] is None else f"{m['global_pearson_r']:.3f}") + " |")
    if res.get("segmentation_dice") is not None:
        lines += ["", f"Segmentation Dice vs cohen masks (ignore label excluded): {res['segmentation_dice']:.3f} "
                  f"on {res['dice_images']} images; by fold: {res['segmentation_dice_by_fold']}."]
    if res.get("readout"):
        r = res["readout"]
        lines += ["", f"Readout: {r['decision']} grade per zone" + (", averaged with the mirrored image" if r["mirror"] else "")
                  + f", temperature {r['temperature']}."]
    if res.get("severe_cases"):
        s = res["severe_cases"]
        lines += ["", f"Severe cases (senior global >= 12): {s['scored_9_or_more']} of {s['n']} scored >= 9."]
    if res.get("mean_zone_mae_by_fold_vs_senior"):
        lines += ["", "Mean zone MAE vs senior per fold (BS-Net / median grade): " + ", ".join(
            f"fold {k} {v['BS-Net']:.3f} / {v['median grade']:.3f}"
            for k, v in res["mean_zone_mae_by_fold_vs_senior"].items()) + "."]
    lines += ["", "Confusion matrices (rows = reference grade 0-3, columns = predicted 0-3):", ""]
    for name, m in res["comparisons"].items():
        lines.append(f"- {name}: {m['confusion_rows_true_cols_pred']}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--out", required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baselines-only", action="store_true")
    ap.add_argument("--checkpoints", nargs="+",
                    help="score checkpoint path pattern with {k} for the fold; several patterns: the heads of an "
                         "ensemble on one trunk, probabilities averaged (model.json scoreHeads)")
    ap.add_argument("--features", help="cache_features.py folder: score from cached frozen-stage outputs")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--decision", choices=DECISIONS, default="argmax",
                    help="readout: how a zone's grade is chosen (the model.json readout; needs --features for median)")
    ap.add_argument("--mirror", action="store_true", help="readout: average with the mirrored image (needs --features)")
    ap.add_argument("--temperature", type=float, default=1.0, help="calibration temperature applied before --decision")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N images (smoke tests)")
    a = ap.parse_args(argv)
    if not a.baselines_only and not a.checkpoints:
        ap.error("give --checkpoints PATTERN or --baselines-only")
    if (a.mirror or a.decision != "argmax" or a.temperature != 1.0) and not a.features:
        ap.error("--decision median, --mirror and --temperature are evaluated from cached features: give --features")
    rows = read_annotations(a.data)
    if a.limit:
        rows = rows[:a.limit]
    fold = cv_folds(rows, a.folds, a.seed)
    senior = np.stack([r["senior"] for r in rows])
    junior = np.stack([r["junior"] for r in rows])
    med = median_predictor(rows, fold)
    comps = {"junior vs senior": metrics(junior, senior),
             "median grade (train folds) vs senior": metrics(med, senior),
             "median grade (train folds) vs junior": metrics(med, junior)}
    res = {"n_images": len(rows), "folds": a.folds, "seed": a.seed, "comparisons": comps,
           "fold_sizes": np.bincount(fold).tolist()}
    if a.checkpoints:
        if a.features:
            pred, dice = cached_predictions(rows, fold, a.checkpoints, a.features, a.data,
                                            a.decision, a.mirror, a.temperature)
        else:
            pred, dice = model_predictions(rows, fold, a.checkpoints, a.data, a.size)
        # Per fold: a fold's Dice is held-out only if the mask stage was trained without that fold
        # (train_seg.py --fold k); the model card says which.
        nd = len(dice)
        res["segmentation_dice_by_fold"] = {str(k): round(float(np.mean([d for f, d in dice if f == k])), 4)
                                            for k in sorted({f for f, _ in dice})}
        dice = float(np.mean([d for _, d in dice])) if dice else None
        # Per fold: how much the figures move between folds of ~29 images (the CV's own uncertainty).
        res["mean_zone_mae_by_fold_vs_senior"] = {
            str(k): {"BS-Net": round(float(np.abs(pred[fold == k] - senior[fold == k]).mean()), 4),
                     "median grade": round(float(np.abs(med[fold == k] - senior[fold == k]).mean()), 4)}
            for k in np.unique(fold)}
        comps["BS-Net (CV) vs senior"] = metrics(pred, senior)
        comps["BS-Net (CV) vs junior"] = metrics(pred, junior)
        res["segmentation_dice"], res["dice_images"] = dice, nd
        res["checkpoints"] = a.checkpoints if len(a.checkpoints) > 1 else a.checkpoints[0]
        res["score_heads"] = len(a.checkpoints)
        res["readout"] = {"decision": a.decision, "mirror": a.mirror, "temperature": a.temperature}
        sev = senior.sum(1) >= 12
        res["severe_cases"] = {"n": int(sev.sum()), "scored_9_or_more": int((pred.sum(1)[sev] >= 9).sum())}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(res, indent=2))
    md = markdown(res)
    (out / "evaluation.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
