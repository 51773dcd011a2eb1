"""How grades are read out of the score head's probabilities: the Python twin of the engine's `Readout`
(Sources/BSNetEngine/Readout.swift), so that the CV figures measure what `brixia` reports.

- decision "argmax": the most probable grade (the authors' BS-Net).
- decision "median": the smallest grade whose cumulative probability reaches half the total: the grade that
  minimises the expected absolute error.
- mirror averaging: each region's probabilities averaged with its mirror region's in the left/right-flipped
  image (region r = 2*row + col, mirror r ^ 1).
"""
import numpy as np

MIRROR_REGION = [1, 0, 3, 2, 5, 4]
DECISIONS = ("argmax", "median")


def decide(probs, decision):
    """probs (..., 4) -> integer grades (...)."""
    p = np.asarray(probs, dtype=np.float64)
    if decision == "argmax":
        return p.argmax(-1)
    if decision == "median":
        return (np.cumsum(p, -1) < 0.5 * p.sum(-1, keepdims=True)).sum(-1)
    raise ValueError(f"unknown decision {decision!r} (one of {DECISIONS})")


def reported(probs, decision):
    """probs (..., 4) -> (grades (...), each grade's probability (...)): the engine's grade and zone confidence."""
    g = decide(probs, decision)
    return g, np.take_along_axis(np.asarray(probs), g[..., None], -1)[..., 0]


def mirror_average(p, p_flipped):
    """p, p_flipped (..., 6, 4) in region order: p averaged with the flipped image's mirror regions."""
    return (np.asarray(p) + np.asarray(p_flipped)[..., MIRROR_REGION, :]) / 2


def temperature_scale(p, t):
    """softmax(log p / t), as the engine's ProbabilityCalibration."""
    if t == 1:
        return np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):
        z = np.log(np.asarray(p, dtype=np.float64)) / t
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)
