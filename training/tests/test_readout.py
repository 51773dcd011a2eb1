"""bsnet/readout.py: the Python twin of the engine's Readout (Sources/BSNetEngine/Readout.swift); the same
cases as Tests/EngineTests/ReadoutTests.swift, so CV figures measure what `brixia` reports."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bsnet.readout import decide, mirror_average, temperature_scale  # noqa: E402


def test_decisions_match_the_engine():
    spread = [0.4, 0.05, 0.3, 0.25]
    assert decide(spread, "argmax") == 0 and decide(spread, "median") == 2
    assert decide([0.05, 0.8, 0.1, 0.05], "median") == 1
    assert decide([0.5, 0, 0, 0.5], "median") == 0
    assert decide([0.25] * 4, "median") == 1 and decide([0.25] * 4, "argmax") == 0
    assert decide([1, 1, 2, 0], "median") == 1
    batch = np.array([[spread, [0.05, 0.8, 0.1, 0.05]]])
    assert decide(batch, "median").tolist() == [[2, 1]]
    with pytest.raises(ValueError):
        decide(spread, "mean")


def test_median_minimises_expected_absolute_error():
    rng = np.random.default_rng(0)
    for p in rng.dirichlet(np.ones(4), size=200):
        cost = [sum(p[k] * abs(g - k) for k in range(4)) for g in range(4)]
        assert cost[decide(p, "median")] <= min(cost) + 1e-12


def test_mirror_average_swaps_columns():
    p = np.arange(24, dtype=float).reshape(6, 4)
    q = np.zeros((6, 4))
    q[1] = 100  # the flipped image's region 1 (top, image-right) is the original's region 0
    m = mirror_average(p, q)
    assert np.allclose(m[0], (p[0] + 100) / 2) and np.allclose(m[1], p[1] / 2)


def test_temperature_scale_matches_the_engine():
    p = np.array([0.7, 0.2, 0.05, 0.05])
    s = np.sqrt(p) / np.sqrt(p).sum()
    assert np.allclose(temperature_scale(p, 2.0), s)
    assert np.allclose(temperature_scale(p, 1), p)
