"""Cohen subset loading: images (authors' load_image + equalize), Brixia labels, lung masks, CV folds."""
import csv
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cohen"
ZONES = "ABCDEF"


class DataError(Exception):
    pass


def resize_linear(img, size):
    """cv2.resize INTER_LINEAR (half-pixel, no antialias) on a float image."""
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float64))[None, None]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False).numpy()[0, 0]


def equalize(v):
    """PIL ImageOps.equalize on a 12-bit quantisation, restated (architecture doc, section 3)."""
    q = np.trunc(4095 * v).astype(np.int64).clip(0, 4095)
    hist = np.bincount(q.ravel(), minlength=4096)
    nz = np.nonzero(hist)[0]
    step = (q.size - hist[nz[-1]]) // 4096
    if step == 0:
        out = q.astype(np.float64)
    else:
        lut = np.empty(4096, np.int64)
        lut[0] = 0
        lut[1:] = (np.cumsum(hist)[:-1] + step // 2) // step
        out = lut.clip(0, 4096)[q].astype(np.float64)
    m = out.max()
    return out / m if m > 0 else out


def load_image(path, size=512):
    """Grayscale uint8 -> /255 -> resize -> equalize; float32 (size,size) in [0,1].

    PIL's 8-bit grey conversion (ITU-R 601-2, like cv2) may differ from cv2 by 1 level on colour files.
    """
    try:
        g = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255.0
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read image ({e})") from e
    return equalize(resize_linear(g, size)).astype(np.float32)


def load_mask(path, size):
    """0 background, 1 lung, 2 ignore (source value 127); nearest-neighbour resize."""
    try:
        m = np.asarray(Image.open(path).convert("L"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read mask ({e})") from e
    lab = np.where(m >= 192, 1, np.where(m >= 64, 2, 0)).astype(np.uint8)
    t = torch.from_numpy(lab)[None, None].float()
    return F.interpolate(t, size=(size, size), mode="nearest").numpy()[0, 0].astype(np.uint8)


def mask_dice(seg, mask):
    """Dice of a boolean lung mask against a load_mask() label map; the ignore label (2) is left out."""
    valid = mask != 2
    gt = mask == 1
    inter = (seg & gt & valid).sum()
    return 2 * inter / max(1, (seg & valid).sum() + gt.sum())


def read_annotations(data_dir=DEFAULT_DATA):
    """[{'filename', 'senior': (6,), 'junior': (6,)}] in file order (zones A..F)."""
    p = Path(data_dir) / "annotations.csv"
    if not p.exists():
        raise DataError(f"{p}: not found")
    rows = []
    with open(p, newline="") as f:
        for i, r in enumerate(csv.DictReader(f)):
            try:
                s = np.array([int(r[f"S-{z}"]) for z in ZONES])
                j = np.array([int(r[f"J-{z}"]) for z in ZONES])
            except (KeyError, ValueError) as e:
                raise DataError(f"{p}: row {i + 2}: bad grade ({e})") from e
            if s.min() < 0 or s.max() > 3 or j.min() < 0 or j.max() > 3:
                raise DataError(f"{p}: row {i + 2}: grade outside 0-3")
            if int(r["S-Global"]) != s.sum() or int(r["J-Global"]) != j.sum():
                raise DataError(f"{p}: row {i + 2}: global score is not the sum of the zones")
            rows.append({"filename": r["filename"], "senior": s, "junior": j})
    return rows


def read_masks(data_dir=DEFAULT_DATA):
    """{image filename: mask path}."""
    p = Path(data_dir) / "masks.csv"
    out = {}
    with open(p, newline="") as f:
        for r in csv.DictReader(f):
            out[r["image"]] = Path(data_dir) / "masks" / r["mask"]
    return out


def zones_to_grid(z):
    """(6,) A..F -> (3,2) [[A,D],[B,E],[C,F]] (the model's output layout, as brixiascore_cohen.get_data)."""
    return np.asarray(z).reshape(2, 3).T


def cv_folds(rows, k=5, seed=0):
    """Fold index per row: stratified by the senior global score (sorted, then dealt in shuffled blocks of k)."""
    rng = np.random.default_rng(seed)
    glob = np.array([r["senior"].sum() for r in rows])
    order = np.lexsort((rng.random(len(rows)), glob))
    fold = np.empty(len(rows), np.int64)
    for start in range(0, len(order), k):
        block = order[start:start + k]
        fold[block] = rng.permutation(k)[:len(block)]
    return fold


def select(rows, fold, which, split):
    """Rows of `split` ('train' = not fold `which`, 'test' = fold `which`); which < 0 -> all rows for train."""
    if which < 0:
        return list(rows) if split == "train" else []
    return [r for r, f in zip(rows, fold) if (f != which) == (split == "train")]
