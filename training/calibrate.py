"""Temperature scaling of the per-zone grade probabilities, fitted and measured on out-of-fold predictions.

  python training/calibrate.py --oof training/calibration/oof.json --svg docs/img/reliability.svg \
      [--json out.json] [--manifest models/bsnet-brixia-own/model.json]

Input: oof_predictions.py's JSON (per image: CV fold, senior grades A..F, the six zones' logits).
Every zone of every image is one prediction (top label = argmax grade, correct = equals the senior grade).

- T: one temperature for all zones, minimising the negative log-likelihood (NLL) of p = softmax(z / T)
  (equal to softmax(log p / T) on the model's probabilities). A per-zone T is also fitted and compared
  in the nested estimate: with ~144 predictions per zone it has six times the variance for the same data.
- ECE: 15 equal-width confidence bins, top label: sum_b |B_b|/n * |accuracy(B_b) - mean confidence(B_b)|.
- Honest estimate (nested): for each fold k, T fitted on the other folds' predictions and the ECE/NLL
  measured on fold k; the figures are averaged over the folds.
- Low-confidence threshold: the study confidence (mean of the six calibrated zone confidences, the
  expected fraction of correct zone grades) below which the --low-quantile least confident studies fall.
- --manifest: writes the "calibration" block into model.json (the weights and their checksum are untouched).
Prints every figure; the reliability diagram (before/after, all OOF predictions) goes to --svg.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bsnet.readout import DECISIONS, decide, reported  # noqa: E402

BINS = 15


def softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def nll(logits, labels, t):
    """Mean negative log-likelihood of softmax(logits / t); logits (n, 4) or (..., 4), labels matching."""
    z = logits / t
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, labels[..., None], -1).mean())


def fit_temperature(logits, labels, lo=0.05, hi=20.0, iters=100):
    """argmin_T NLL by golden-section search on log T (NLL is unimodal in T for fixed logits)."""
    a, b = math.log(lo), math.log(hi)
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(logits, labels, math.exp(c)), nll(logits, labels, math.exp(d))
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(logits, labels, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(logits, labels, math.exp(d))
    return math.exp((a + b) / 2)


def reliability(probs, labels, bins=BINS, decision="argmax"):
    """Per bin: (lower edge, upper edge, count, accuracy, mean confidence) of the reported grade (the top
    label for argmax); and the ECE."""
    g, conf = reported(probs, decision)
    correct = (g == labels).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)  # (lo, hi] bins, 0 in the first
    rows, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        acc = float(correct[m].mean()) if n else float("nan")
        cf = float(conf[m].mean()) if n else float("nan")
        if n:
            ece += n / len(conf) * abs(acc - cf)
        rows.append((float(edges[b]), float(edges[b + 1]), n, acc, cf))
    return rows, float(ece)


def ece(probs, labels, bins=BINS):
    return reliability(probs, labels, bins)[1]


def load_oof(path):
    d = json.loads(Path(path).read_text())
    imgs = d["images"]
    logits = np.array([im["logits"] for im in imgs], dtype=np.float64)   # (N, 6, 4)
    labels = np.array([im["senior"] for im in imgs], dtype=np.int64)     # (N, 6)
    folds = np.array([im["fold"] for im in imgs], dtype=np.int64)
    if logits.shape[1:] != (6, 4) or labels.shape != logits.shape[:2] or not np.isfinite(logits).all():
        raise SystemExit(f"{path}: expected per image 6x4 finite logits and 6 grades")
    if labels.min() < 0 or labels.max() > 3:
        raise SystemExit(f"{path}: grades outside 0..3")
    return logits, labels, folds


def nested(logits, labels, folds, per_zone=False):
    """Per held-out fold: T fitted on the other folds; ECE and NLL before/after on the held-out fold."""
    out = []
    for k in np.unique(folds):
        tr, te = folds != k, folds == k
        if per_zone:
            ts = np.array([fit_temperature(logits[tr][:, z], labels[tr][:, z]) for z in range(6)])
        else:
            ts = np.full(6, fit_temperature(logits[tr].reshape(-1, 4), labels[tr].reshape(-1)))
        lt, yt = logits[te], labels[te]
        before = softmax(lt).reshape(-1, 4)
        after = softmax(lt / ts[None, :, None]).reshape(-1, 4)
        out.append({"fold": int(k), "temperature": ts.tolist() if per_zone else float(ts[0]),
                    "eceBefore": ece(before, yt.reshape(-1)), "eceAfter": ece(after, yt.reshape(-1)),
                    "nllBefore": nll(lt, yt, 1.0), "nllAfter": float(np.mean([nll(lt[:, z], yt[:, z], ts[z]) for z in range(6)]))})
    return out


def study_confidence(probs, decision="argmax"):
    """(N,6,4) -> (N,) mean over zones of the reported grade's probability (the engine's confidence)."""
    return reported(probs, decision)[1].mean(-1)


def svg_reliability(before, after, ece_before, ece_after, t, path):
    """Reliability diagram (accuracy vs confidence per bin, bar width = bin, dots sized by count)."""
    w, h, m = 720, 380, 50
    pw = (w - 3 * m) / 2
    ph = h - 2 * m - 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>']
    for j, (rows, e, title) in enumerate([(before, ece_before, "before (T = 1)"), (after, ece_after, f"after (T = {t:.3f})")]):
        x0, y0 = m + j * (pw + m), m
        parts.append(f'<text x="{x0 + pw / 2}" y="{y0 - 18}" text-anchor="middle" font-weight="bold">'
                     f'{title}: ECE {e:.3f}</text>')
        parts.append(f'<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
        parts.append(f'<line x1="{x0}" y1="{y0 + ph}" x2="{x0 + pw}" y2="{y0}" stroke="grey" stroke-dasharray="4,3"/>')
        total = sum(r[2] for r in rows) or 1
        for lo, hi, n, acc, cf in rows:
            if not n:
                continue
            bx, bw = x0 + lo * pw, (hi - lo) * pw
            parts.append(f'<rect x="{bx:.1f}" y="{y0 + ph * (1 - acc):.1f}" width="{bw:.1f}" height="{ph * acc:.1f}" '
                         f'fill="#4a7ab5" fill-opacity="0.75" stroke="white"/>')
            r = 2 + 10 * math.sqrt(n / total)
            parts.append(f'<circle cx="{x0 + cf * pw:.1f}" cy="{y0 + ph * (1 - acc):.1f}" r="{r:.1f}" fill="#d9534f"/>')
        for v in (0, 0.25, 0.5, 0.75, 1):
            parts.append(f'<text x="{x0 + v * pw}" y="{y0 + ph + 16}" text-anchor="middle">{v:g}</text>')
            parts.append(f'<text x="{x0 - 6}" y="{y0 + ph * (1 - v) + 4}" text-anchor="end">{v:g}</text>')
        parts.append(f'<text x="{x0 + pw / 2}" y="{y0 + ph + 34}" text-anchor="middle">confidence (top-label probability)</text>')
    parts.append(f'<text x="12" y="{m + ph / 2}" transform="rotate(-90 12 {m + ph / 2})" text-anchor="middle">accuracy vs senior</text>')
    parts.append(f'<text x="{w - 8}" y="{h - 6}" text-anchor="end" fill="grey">bars: accuracy per bin (15 bins); '
                 f'dots: mean confidence, area ~ count; dashed: perfect calibration</text>')
    parts.append("</svg>")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(parts) + "\n")


def calibrate(logits, labels, folds, low_quantile=0.2, decision="argmax"):
    t0 = time.time()
    flat_l, flat_y = logits.reshape(-1, 4), labels.reshape(-1)
    t = fit_temperature(flat_l, flat_y)
    before, after = softmax(flat_l), softmax(flat_l / t)
    rel_b, ece_b = reliability(before, flat_y)
    rel_a, ece_a = reliability(after, flat_y)
    nest = nested(logits, labels, folds)
    nest_z = nested(logits, labels, folds, per_zone=True)
    calibrated = softmax(logits / t)
    conf = study_confidence(calibrated, decision)
    threshold = float(np.quantile(conf, low_quantile))
    zone_acc = (decide(calibrated, decision) == labels).mean(-1)
    low = conf < threshold
    res = {
        "n_images": int(len(labels)), "n_predictions": int(flat_y.size), "temperature": t,
        "ece": {"before": ece_b, "after": ece_a,
                "nestedBefore": float(np.mean([r["eceBefore"] for r in nest])),
                "nestedAfter": float(np.mean([r["eceAfter"] for r in nest]))},
        "nll": {"before": nll(flat_l, flat_y, 1.0), "after": nll(flat_l, flat_y, t),
                "nestedBefore": float(np.mean([r["nllBefore"] for r in nest])),
                "nestedAfter": float(np.mean([r["nllAfter"] for r in nest])),
                "nestedAfterPerZoneT": float(np.mean([r["nllAfter"] for r in nest_z]))},
        "eceNestedAfterPerZoneT": float(np.mean([r["eceAfter"] for r in nest_z])),
        "accuracy": float((flat_l.argmax(-1) == flat_y).mean()),
        "meanConfidence": {"before": float(before.max(-1).mean()), "after": float(after.max(-1).mean())},
        "nested": nest, "nestedPerZone": nest_z,
        "lowConfidence": {"quantile": low_quantile, "threshold": threshold, "flagged": int(low.sum()),
                          "zoneAccuracyFlagged": float(zone_acc[low].mean()) if low.any() else None,
                          "zoneAccuracyOthers": float(zone_acc[~low].mean()) if (~low).any() else None,
                          "meanStudyConfidenceFlagged": float(conf[low].mean()) if low.any() else None,
                          "meanStudyConfidenceOthers": float(conf[~low].mean()) if (~low).any() else None},
        "reliability": {"before": rel_b, "after": rel_a},
        "decision": decision,
        "eceReportedGrade": {"before": reliability(before, flat_y, decision=decision)[1],
                             "after": reliability(after, flat_y, decision=decision)[1]},
        "accuracyReportedGrade": float((decide(after, decision) == flat_y).mean()),
        "seconds": None,
    }
    res["seconds"] = round(time.time() - t0, 2)
    return res


def manifest_block(res, fitted_on):
    return {"method": "temperature", "temperature": round(res["temperature"], 4), "fittedOn": fitted_on,
            "lowConfidenceBelow": round(res["lowConfidence"]["threshold"], 4),
            "ece": {k: round(v, 4) for k, v in res["ece"].items()},
            "notes": (f"one T for all zones, minimising NLL on {res['n_predictions']} out-of-fold zone predictions; "
                      f"ECE 15 bins top label; nested = T fitted on 4 folds, measured on the 5th, averaged; "
                      f"lowConfidenceBelow = the {res['lowConfidence']['quantile']:.0%} quantile of the OOF study "
                      f"confidence (training/calibrate.py, docs/model-card.md)")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oof", required=True)
    ap.add_argument("--svg", help="reliability diagram to write")
    ap.add_argument("--json", help="all figures as JSON")
    ap.add_argument("--manifest", help="model.json to record the calibration in")
    ap.add_argument("--low-quantile", type=float, default=0.2)
    ap.add_argument("--decision", choices=DECISIONS, default="argmax",
                    help="the model's readout decision: the study confidence is the mean probability of the reported grades")
    ap.add_argument("--fitted-on", default="out-of-fold predictions of the 144 labelled Cohen images "
                    "(5 CV score heads re-trained on the shipped trunk, training/oof_predictions.py)")
    a = ap.parse_args(argv)
    logits, labels, folds = load_oof(a.oof)
    res = calibrate(logits, labels, folds, a.low_quantile, a.decision)
    e, n, lc = res["ece"], res["nll"], res["lowConfidence"]
    print(f"{res['n_images']} images, {res['n_predictions']} zone predictions, exact-grade accuracy {res['accuracy']:.3f}")
    print(f"temperature T = {res['temperature']:.4f} (one for all zones)")
    print(f"ECE (15 bins, top label), all OOF: before {e['before']:.4f}  after {e['after']:.4f}  (T fitted on the same data)")
    print(f"ECE nested (T from 4 folds, measured on the 5th, mean): before {e['nestedBefore']:.4f}  after {e['nestedAfter']:.4f}")
    print(f"NLL nested: before {n['nestedBefore']:.4f}  after (one T) {n['nestedAfter']:.4f}  after (per-zone T) {n['nestedAfterPerZoneT']:.4f}")
    print(f"ECE nested with per-zone T: {res['eceNestedAfterPerZoneT']:.4f}")
    if a.decision != "argmax":
        er = res["eceReportedGrade"]
        print(f"ECE of the reported ({a.decision}) grade's probability, all OOF: before {er['before']:.4f}  after {er['after']:.4f}; "
              f"reported-grade accuracy {res['accuracyReportedGrade']:.3f}")
    print(f"mean top-label probability: before {res['meanConfidence']['before']:.3f}  after {res['meanConfidence']['after']:.3f}")
    for r in res["nested"]:
        print(f"  fold {r['fold']}: T {r['temperature']:.3f}  ECE {r['eceBefore']:.4f} -> {r['eceAfter']:.4f}  "
              f"NLL {r['nllBefore']:.4f} -> {r['nllAfter']:.4f}")
    print(f"low-confidence threshold (study confidence, {lc['quantile']:.0%} quantile): {lc['threshold']:.4f}; "
          f"{lc['flagged']} studies flagged, their zone accuracy {lc['zoneAccuracyFlagged']} vs {lc['zoneAccuracyOthers']} for the others")
    print(f"calibration step: {res['seconds']} s")
    if a.svg:
        svg_reliability(res["reliability"]["before"], res["reliability"]["after"], e["before"], e["after"],
                        res["temperature"], a.svg)
        print(f"wrote {a.svg}")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
        print(f"wrote {a.json}")
    if a.manifest:
        p = Path(a.manifest)
        m = json.loads(p.read_text())
        m["calibration"] = manifest_block(res, a.fitted_on)
        p.write_text(json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"recorded the calibration in {p} (weights untouched)")
    return res


if __name__ == "__main__":
    main()
