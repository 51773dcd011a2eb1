"""Smoke runs of every training stage on a few images at 64 px (seconds each), plus resume and seeding."""
import json

import numpy as np
import pytest
import torch

from conftest import needs_cohen

TINY = ["--epochs", "1", "--limit", "2", "--size", "64", "--batch", "2", "--threads", "2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@needs_cohen
def test_seg_stage_runs_and_resumes(runs):
    import train_seg
    train_seg.main(["--out", str(runs / "seg")] + TINY)
    st = torch.load(runs / "seg" / "last.pt", weights_only=False)
    assert st["epoch"] == 0 and st["trained"] == ["seg"]
    # --resume continues at the next epoch instead of starting over
    train_seg.main(["--out", str(runs / "seg"), "--resume", "--epochs", "2"] + TINY[2:])
    st2 = torch.load(runs / "seg" / "last.pt", weights_only=False)
    assert st2["epoch"] == 1
    log = [json.loads(line) for line in (runs / "seg" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [0, 1] and all(np.isfinite(r["loss"]) for r in log)


@needs_cohen
def test_seg_stage_is_seeded(tmp_path):
    import train_seg
    for d in ("a", "b"):
        train_seg.main(["--out", str(tmp_path / d), "--seed", "3"] + TINY)
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@needs_cohen
def test_align_stage_runs(runs):
    import train_align
    train_align.main(["--out", str(runs / "align"), "--init", str(runs / "seg" / "last.pt")] + TINY[:6]
                     + ["--size", "128", "--batch", "2"])
    st = torch.load(runs / "align" / "last.pt", weights_only=False)
    assert st["trained"] == ["align", "seg"]
    # only the STN was trained: the decoder is untouched by this stage
    seg = torch.load(runs / "seg" / "last.pt", weights_only=False)["model"]
    assert torch.equal(seg["decoder.final_conv.weight"], st["model"]["decoder.final_conv.weight"])
    assert not torch.equal(seg["stn.locnet_alignment.bias"], st["model"]["stn.locnet_alignment.bias"])


@needs_cohen
def test_score_stage_and_evaluate_run(runs):
    import evaluate
    import train_score
    train_score.main(["--out", str(runs / "score"), "--init", str(runs / "align" / "last.pt")] + TINY)
    st = torch.load(runs / "score" / "last.pt", weights_only=False)
    assert st["trained"] == ["align", "score", "seg"] and st["untrained"] == []
    al = torch.load(runs / "align" / "last.pt", weights_only=False)["model"]
    assert torch.equal(al["encoder.conv0.weight"], st["model"]["encoder.conv0.weight"])  # frozen
    evaluate.main(["--checkpoints", str(runs / "score" / "last.pt"), "--size", "64", "--limit", "4", "--folds", "2",
                   "--out", str(runs / "eval")])
    res = json.loads((runs / "eval" / "evaluation.json").read_text())
    m = res["comparisons"]["BS-Net (CV) vs senior"]
    assert m["n"] == 4 and 0 <= m["mean_zone_mae"] <= 3 and 0 <= res["segmentation_dice"] <= 1


@needs_cohen
def test_export_trained_checkpoint(runs, tmp_path):
    import export_bundle
    from bsnet.bundle import read_bundle_into
    from bsnet.model import BSNet
    export_bundle.main(["--checkpoint", str(runs / "score" / "last.pt"), "--out", str(tmp_path / "b"),
                        "--name", "smoke", "--version", "0"])
    m = BSNet()
    man = read_bundle_into(m, tmp_path / "b")
    st = torch.load(runs / "score" / "last.pt", weights_only=False)["model"]
    assert torch.equal(m.state_dict()["head.P5.weight"], st["head.P5.weight"])
    assert man["provenance"]["sources"][0]["name"] == "last.pt"


@needs_cohen
def test_cached_score_stage_matches_the_full_network(runs, tmp_path):
    """cache_features -> train_score --features -> evaluate --features, and the cached path equals the full model."""
    import cache_features
    import evaluate
    import train_score
    from bsnet.data import load_image, read_annotations, DEFAULT_DATA
    from bsnet.model import BSNet
    from bsnet.train_common import load_checkpoint
    init = str(runs / "align" / "last.pt")
    feats = tmp_path / "features"
    cache_features.main(["--init", init, "--out", str(feats), "--size", "64", "--variants", "3", "--limit", "4",
                         "--threads", "2"])
    assert len(list(feats.glob("*_v*.pt"))) == 12
    rec0 = torch.load(feats / "000_v0.pt", weights_only=False)
    rec1 = torch.load(feats / "000_v1.pt", weights_only=False)
    # mirror variant: label columns swapped (region order A,D,B,E,C,F)
    assert torch.equal(rec1["senior"], rec0["senior"].reshape(3, 2).flip(1).reshape(6))
    train_score.main(["--out", str(tmp_path / "score"), "--init", init, "--features", str(feats), "--epochs", "2",
                      "--limit", "3", "--batch", "2", "--threads", "2"])
    ckpt = tmp_path / "score" / "last.pt"
    st = torch.load(ckpt, weights_only=False)
    assert st["trained"] == ["align", "score", "seg"] and st["epoch"] == 1
    # the cached input of the head gives the same scores as running the whole trained network
    model = BSNet().eval()
    load_checkpoint(model, ckpt)
    row = read_annotations(DEFAULT_DATA)[0]
    x = torch.from_numpy(load_image(DEFAULT_DATA / "images" / row["filename"], 64))[None, None]
    with torch.no_grad():
        full = model(x)["score_logits"]
        cached = model.head.classify([g[None] for g in rec0["gated"]])
    assert torch.allclose(full, cached, atol=1e-5)
    # the finished checkpoint carries the head's recalibrated BatchNorm statistics (the exact average over
    # the training inputs), not Keras-style momentum averages that still hold most of their initial values
    import argparse
    args = argparse.Namespace(**st["args"])
    items = train_score.load_features(feats, [r["filename"] for r in read_annotations(DEFAULT_DATA)[:3]])
    saved = {k: v.clone() for k, v in model.head.state_dict().items() if "running_" in k}
    train_score.recalibrate_head_bn(model, items, args)
    now = model.head.state_dict()
    assert all(torch.allclose(saved[k], now[k], atol=1e-6) for k in saved)
    assert not torch.allclose(saved["classifiers.0.bns.0.running_var"], torch.ones(8), atol=1e-2)
    # a cache from other frozen stages is refused
    with pytest.raises(SystemExit):
        train_score.main(["--out", str(tmp_path / "score2"), "--init", str(runs / "seg" / "last.pt"),
                          "--features", str(feats), "--epochs", "1", "--limit", "3"])
    evaluate.main(["--checkpoints", str(ckpt), "--features", str(feats), "--limit", "4", "--folds", "2",
                   "--out", str(tmp_path / "eval")])
    res = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert res["comparisons"]["BS-Net (CV) vs senior"]["n"] == 4 and set(res["segmentation_dice_by_fold"]) <= {"0", "1"}
    # several checkpoint patterns are the heads of an ensemble: probabilities averaged (model.json scoreHeads).
    # Heads biased to always say 0 ("lo") or 3 ("hi"): two of three saying 0 give 0 wherever "hi" stands.
    st = torch.load(ckpt, weights_only=False)
    biased = {}
    for name, grade in (("lo", 0), ("hi", 3)):
        s2 = {**st, "model": dict(st["model"])}
        for r in range(6):
            b = s2["model"][f"head.classifiers.{r}.score.bias"].clone()
            b[grade] += 50
            s2["model"][f"head.classifiers.{r}.score.bias"] = b
        biased[name] = tmp_path / f"{name}.pt"
        torch.save(s2, biased[name])
    for heads in (("hi", "lo", "lo"), ("lo", "lo", "hi")):
        out = tmp_path / ("eval-" + "-".join(heads))
        evaluate.main(["--checkpoints", *[str(biased[h]) for h in heads], "--features", str(feats), "--limit", "4",
                       "--folds", "2", "--decision", "median", "--out", str(out)])
        ens = json.loads((out / "evaluation.json").read_text())
        conf = ens["comparisons"]["BS-Net (CV) vs senior"]["confusion_rows_true_cols_pred"]
        assert ens["score_heads"] == 3 and all(row[1:] == [0, 0, 0] for row in conf), (heads, conf)
    # the model.json training record is made from those figures, not typed
    import training_record
    training_record.main(["--eval", str(tmp_path / "eval" / "evaluation.json"), "--recipe", "smoke",
                          "--out", str(tmp_path / "training.json")])
    rec = json.loads((tmp_path / "training.json").read_text())
    m = res["comparisons"]["BS-Net (CV) vs senior"]
    assert any(f"mean zone MAE {m['mean_zone_mae']:.3f}" in line for line in rec["evaluation"])
    assert set(rec) == {"data", "dataLicence", "recipe", "evaluation"}


@needs_cohen
def test_bn_recalibration_stage_changes_statistics_only(runs):
    import recalibrate_bn
    recalibrate_bn.main(["--init", str(runs / "seg" / "last.pt"), "--out", str(runs / "bn"), "--size", "64",
                         "--limit", "3", "--batch", "2", "--threads", "2"])
    seg = torch.load(runs / "seg" / "last.pt", weights_only=False)["model"]
    bn = torch.load(runs / "bn" / "last.pt", weights_only=False)
    assert bn["trained"] == ["seg"]
    for k in seg:
        same = torch.equal(seg[k], bn["model"][k])
        if "running_" in k and (k.startswith("encoder.") or k.startswith("decoder.")):
            continue
        assert same, k  # weights, and the head's/STN's statistics, are untouched
    assert not torch.equal(seg["encoder.bn0.running_mean"], bn["model"]["encoder.bn0.running_mean"])
