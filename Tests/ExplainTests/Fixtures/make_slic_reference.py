#!/usr/bin/env python3
"""Regenerates the SLIC reference facts used by Tests/ExplainTests/SlicTests.swift.

Run once in a throwaway venv (not needed by the build or the tests):
    python3 -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-image
    /tmp/skvenv/bin/python Tests/ExplainTests/Fixtures/make_slic_reference.py

The image is integer-only (SyntheticImage.swift computes the same bytes). skimage segments it as the BS-Net
hackathon code did: 8-bit gray given as RGB (so slic converts to L*a*b*), n_segments 180, compactness 10,
sigma 1, start_label 1. Output: slic_reference_boundaries.bin = np.packbits of the boundary map (row-major,
MSB first), where a pixel is a boundary if its right or lower neighbour has another label; and the facts
printed on stdout (segment count, boundary pixels) that the test hard-codes.
"""
import os
import numpy as np
import skimage
from skimage.segmentation import slic

N = 512


def synthetic():
    y, x = np.mgrid[:N, :N].astype(np.int64)
    v = 60 + (x + y) // 8
    v += np.where((x - 170) ** 2 + (y - 180) ** 2 < 90 ** 2, 60, 0)
    v -= np.where((x - 360) ** 2 + (y - 330) ** 2 < 110 ** 2, 50, 0)
    v += np.where((x >= 60) & (x < 200) & (y >= 380) & (y < 480), 45, 0)
    v += np.where(((x // 16 + y // 16) % 2 == 0) & (x > 400) & (y < 200), 30, 0)
    v += (x * 7919 + y * 104729) % 17 - 8
    return np.clip(v, 0, 255).astype(np.uint8)


def boundaries(labels):
    b = np.zeros(labels.shape, bool)
    b[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    b[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return b


img = synthetic()
labels = slic(np.stack([img] * 3, axis=-1), n_segments=180, compactness=10, sigma=1, start_label=1)
b = boundaries(labels)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "slic_reference_boundaries.bin"), "wb") as f:
    f.write(np.packbits(b.ravel()).tobytes())
print("scikit-image", skimage.__version__)
print("image sum", int(img.astype(np.int64).sum()))
print("segments", int(labels.max()), "unique", len(np.unique(labels)))
print("boundary pixels", int(b.sum()))
