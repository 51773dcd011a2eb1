"""calibrate.py on synthetic out-of-fold predictions whose miscalibration is known."""
import json

import numpy as np
import pytest

import calibrate


def synthetic_oof(path, t_true, n=600, seed=0):
    """Labels drawn from softmax(z); the 'model' reports z * t_true, i.e. it is over-confident by t_true."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.2, (n, 6, 4))
    p = calibrate.softmax(z)
    labels = (p.cumsum(-1) > rng.random((n, 6, 1))).argmax(-1)
    images = [{"filename": f"{i}.png", "fold": int(i % 5), "senior": labels[i].tolist(),
               "logits": (z[i] * t_true).tolist()} for i in range(n)]
    path.write_text(json.dumps({"images": images}))
    return z, labels


@pytest.mark.parametrize("t_true", [2.0, 0.6])
def test_recovers_known_temperature_and_lowers_ece(tmp_path, t_true):
    f = tmp_path / "oof.json"
    synthetic_oof(f, t_true)
    logits, labels, folds = calibrate.load_oof(f)
    res = calibrate.calibrate(logits, labels, folds)
    assert res["temperature"] == pytest.approx(t_true, rel=0.12)
    assert res["ece"]["after"] < res["ece"]["before"]
    assert res["ece"]["nestedAfter"] < 0.6 * res["ece"]["nestedBefore"]
    assert res["nll"]["nestedAfter"] < res["nll"]["nestedBefore"]
    # over-confident (T > 1): calibration lowers the mean confidence; under-confident: raises it
    assert (res["meanConfidence"]["after"] < res["meanConfidence"]["before"]) == (t_true > 1)
    for r in res["nested"]:
        assert r["temperature"] == pytest.approx(t_true, rel=0.25)


def test_calibrated_model_is_left_alone(tmp_path):
    f = tmp_path / "oof.json"
    synthetic_oof(f, 1.0, seed=3)
    res = calibrate.calibrate(*calibrate.load_oof(f))
    assert res["temperature"] == pytest.approx(1.0, abs=0.1)
    assert res["ece"]["after"] < 0.05


def test_ece_by_hand():
    # bin (0.6, 0.6667]: two predictions with confidence 0.62, one right -> |0.5 - 0.62|; bin (0.9333, 1]: one,
    # confidence 1.0, right -> 0. ECE = 2/3 * 0.12.
    probs = np.array([[0.62, 0.38, 0, 0], [0.62, 0.38, 0, 0], [1.0, 0, 0, 0]])
    labels = np.array([0, 1, 0])
    assert calibrate.ece(probs, labels) == pytest.approx(2 / 3 * 0.12)


def test_outputs_svg_and_manifest_without_touching_weights(tmp_path):
    f = tmp_path / "oof.json"
    synthetic_oof(f, 1.5, n=200)
    m = tmp_path / "model.json"
    weights = {"file": "weights.safetensors", "sha256": "ab" * 32}
    m.write_text(json.dumps({"name": "x", "weights": weights}))
    svg = tmp_path / "rel.svg"
    calibrate.main(["--oof", str(f), "--svg", str(svg), "--manifest", str(m)])
    assert svg.read_text().startswith("<svg") and "ECE" in svg.read_text()
    out = json.loads(m.read_text())
    assert out["weights"] == weights
    c = out["calibration"]
    assert c["method"] == "temperature" and c["temperature"] == pytest.approx(1.5, rel=0.2)
    assert 0 < c["lowConfidenceBelow"] < 1 and set(c["ece"]) == {"before", "after", "nestedBefore", "nestedAfter"}


def test_rejects_malformed_oof(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"images": [{"filename": "a", "fold": 0, "senior": [0] * 6, "logits": [[0, 0, 0]] * 6}]}))
    with pytest.raises(SystemExit):
        calibrate.load_oof(f)
    f.write_text(json.dumps({"images": [{"filename": "a", "fold": 0, "senior": [4] * 6, "logits": [[0, 0, 0, 0]] * 6}]}))
    with pytest.raises(SystemExit):
        calibrate.load_oof(f)
