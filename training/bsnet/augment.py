"""Geometric and intensity augmentation on numpy arrays (scipy.ndimage), seeded by the caller's rng."""
import numpy as np
from scipy import ndimage


def affine_matrix(rng, size, max_rot_deg, max_scale, max_shift):
    """Random rotation/scale/shift about the centre, as (matrix, offset) for ndimage.affine_transform."""
    a = np.deg2rad(rng.uniform(-max_rot_deg, max_rot_deg))
    s = 1.0 + rng.uniform(-max_scale, max_scale)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) / s
    c = np.array([size / 2 - 0.5, size / 2 - 0.5])
    shift = rng.uniform(-max_shift, max_shift, 2) * size
    return m, c - m @ (c + shift)


def elastic_coords(rng, size, alpha, sigma):
    """Elastic displacement (Simard): alpha/sigma in pixels of a 512 image, scaled to `size`."""
    k = size / 512.0
    dy = ndimage.gaussian_filter(rng.uniform(-1, 1, (size, size)), sigma * k) * alpha * k
    dx = ndimage.gaussian_filter(rng.uniform(-1, 1, (size, size)), sigma * k) * alpha * k
    yy, xx = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return np.stack([yy + dy, xx + dx])


def grid_coords(rng, size, steps=5, limit=0.3):
    """Grid distortion: each of `steps` cells per axis stretched by 1+U(-limit,limit), piecewise linear."""
    maps = []
    for _ in range(2):
        w = 1.0 + rng.uniform(-limit, limit, steps)
        edges = np.concatenate([[0], np.cumsum(w) / w.sum()]) * (size - 1)
        src = np.linspace(0, size - 1, steps + 1)
        maps.append(np.interp(np.arange(size), src, edges))
    yy, xx = np.meshgrid(maps[0], maps[1], indexing="ij")
    return np.stack([yy, xx])


def optical_coords(rng, size, distort_limit=0.2, shift_limit=0.05, k=None):
    """Optical (lens) distortion as albumentations' OpticalDistortion: the radial camera model of OpenCV's
    initUndistortRectifyMap with k1 = k2 = k ~ U(-distort_limit, distort_limit), focal length = size and the
    centre shifted by U(-shift_limit, shift_limit) * size. Returns source coordinates for map_coordinates."""
    k = rng.uniform(-distort_limit, distort_limit) if k is None else k
    dx, dy = (np.round(rng.uniform(-shift_limit, shift_limit) * size) for _ in range(2))
    f = float(size)
    cx, cy = size * 0.5 + dx, size * 0.5 + dy
    yy, xx = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64), indexing="ij")
    x, y = (xx - cx) / f, (yy - cy) / f
    r2 = x * x + y * y
    radial = 1 + k * r2 + k * r2 * r2
    return np.stack([y * radial * f + cy, x * radial * f + cx])


def warp(arrays, rng, size, rot=25, scale=0.1, shift=0.1, p_affine=0.8, p_elastic=0.2, p_grid=0.2,
         orders=None, p_optical=0.0):
    """Apply one random transform to every array in `arrays` (same geometry). orders: spline order each.

    p_optical > 0 adds the optical distortion (0.2 / 0.05, as the authors' synthetic alignment set); with 0 it
    draws nothing from `rng`, so runs made before it existed reproduce exactly."""
    orders = orders or [1] * len(arrays)
    out = list(arrays)
    if rng.random() < p_affine:
        m, off = affine_matrix(rng, size, rot, scale, shift)
        out = [ndimage.affine_transform(a, m, off, order=o, mode="constant") for a, o in zip(out, orders)]
    steps = [(p_elastic, lambda: elastic_coords(rng, size, 60, 12)), (p_grid, lambda: grid_coords(rng, size))]
    if p_optical > 0:
        steps.append((p_optical, lambda: optical_coords(rng, size)))
    for p, make in steps:
        if rng.random() < p:
            c = make()
            out = [ndimage.map_coordinates(a, c, order=o, mode="constant") for a, o in zip(out, orders)]
    return out


def intensity(img, rng):
    """Gamma, contrast and brightness jitter, kept in [0,1]."""
    img = np.clip(img, 0, 1) ** np.exp(rng.uniform(-0.3, 0.3))
    img = (img - 0.5) * rng.uniform(0.85, 1.15) + 0.5 + rng.uniform(-0.05, 0.05)
    return np.clip(img, 0, 1).astype(np.float32)
