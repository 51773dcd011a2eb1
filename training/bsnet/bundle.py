"""Write a Brixia model bundle (model.json + weights.safetensors) from the PyTorch BS-Net.

The bytes follow what `brixia model import-keras` writes (Sources/ModelBundle): Keras tensor names
(no ':0') and layouts, tensors in the authors' h5 order, header keys sorted, compact JSON with '/'
escaped as Foundation's JSONSerialization does, padded with spaces to 8-byte alignment, metadata
{"architecture", "naming": "keras"}; model.json pretty-printed with sorted keys like JSONEncoder.
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
import uuid
from pathlib import Path

import numpy as np

from .keras_h5 import torch_to_keras

ARCHITECTURE = "bsnet-resnet18-unetpp-512"
INTENDED_USE = "AI-generated output, research use only, not verified by a physician, not for diagnostic use."
NAMING = ("keras: '<layer>/<weight>' without ':0'; Conv2D (kh,kw,in,out), Conv2DTranspose (kh,kw,out,in), "
          "Dense (in,out)")
OUTPUTS = ("segmentation (1,512,512,1) sigmoid lung probability; aligned segmentation (1,512,512,1); "
           "STN affine theta (1,6); scores (1,3,2,4): out[0,row,col,:] = softmax over grades 0-3 of region "
           "r = 2*row+col (rows top/middle/bottom, columns image-left/image-right)")

# Keras' model.layers order interleaves the U-Net++ decoder by depth; the h5 (and so the bundle) uses it.
DECODER_H5_ORDER = """5-1_upsample 5-1_bn1 4-1_upsample 5-1_conv2 4-1_bn1 5-1_bn2 3-1_upsample 4-2_upsample
4-1_conv2 3-1_bn1 4-2_bn1 4-1_bn2 2-1_upsample 3-1_conv2 3-2_upsample 2-1_bn1 4-2_conv2 3-1_bn2 3-2_bn1
4-2_bn2 2-1_conv2 2-2_upsample 3-3_upsample 3-2_conv2 2-1_bn2 2-2_bn1 3-3_bn1 3-2_bn2 2-2_conv2
2-3_upsample 3-3_conv2 2-2_bn2 2-3_bn1 3-3_bn2 2-4_upsample 2-3_conv2 2-4_bn1 2-3_bn2 2-4_conv2 2-4_bn2
1-5_upsample 1-5_bn1 1-5_conv2 1-5_bn2""".split()


def h5_ordered(tensors):
    """Reorder [(name, ...)] (model order) into the authors' h5 order: only decoder groups move."""
    rank = {f"decoder_stage{g}": i for i, g in enumerate(DECODER_H5_ORDER)}
    dec = [t for t in tensors if t[0].split("/")[0] in rank]
    dec.sort(key=lambda t: rank[t[0].split("/")[0]])  # stable: keeps weight order inside a group
    first = next(i for i, t in enumerate(tensors) if t[0].split("/")[0] in rank)
    rest = [t for t in tensors if t[0].split("/")[0] not in rank]
    return rest[:first] + dec + rest[first:]


def keras_arrays(model):
    """[(keras name, float32 array in Keras layout)] in h5 order."""
    out = []
    for name, t, layout in model.keras_tensors():
        out.append((name, torch_to_keras(t.detach().cpu().numpy().astype(np.float32), layout)))
    return h5_ordered(out)


# Swift's JSONSerialization(.sortedKeys) orders keys by a collation (case-insensitive, digit runs
# compared as numbers, punctuation before digits before letters, '_' < '-' < '/'), not by code point.
# Checked against `brixia model import-keras` on all 352 BS-Net names (tests/test_bundle_export.py).
_PUNCT = {"_": 0, "-": 1, ",": 2, ";": 3, ":": 4, "!": 5, "?": 6, ".": 7, "'": 8, '"': 9, "(": 10, ")": 11,
          "[": 12, "]": 13, "{": 14, "}": 15, "@": 16, "*": 17, "/": 18, "\\": 19, "&": 20, "#": 21, "%": 22}


def _collation_key(s):
    key = []
    for m in re.finditer(r"\d+|.", s.lower()):
        t = m.group()
        if t.isdigit():
            key.append((1, int(t), ""))
        elif t.isalpha():
            key.append((2, 0, t))
        else:
            key.append((0, _PUNCT.get(t, 99), t))
    return key


def _json_foundation(obj):
    """Compact JSON, keys in Foundation's sorted order, '/' escaped as '\\/' (as JSONSerialization does)."""
    if isinstance(obj, dict):
        items = sorted(obj.items(), key=lambda kv: _collation_key(kv[0]))
        return "{" + ",".join(json.dumps(k).replace("/", "\\/") + ":" + _json_foundation(v) for k, v in items) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(_json_foundation(v) for v in obj) + "]"
    return json.dumps(obj).replace("/", "\\/")


def encode_safetensors(arrays, dtype="F32", metadata=None):
    np_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, arr in arrays:
        a = np.ascontiguousarray(arr, dtype=np.float32)
        if dtype == "F16":
            h = a.astype(np_dtype)
            if np.any(np.isinf(h) & np.isfinite(a)):
                raise ValueError(f"tensor '{name}' has values outside the float16 range; store float32")
            data = h.tobytes()
        else:
            data = a.astype(np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    js = _json_foundation(header).encode()
    js += b" " * ((-(8 + len(js))) % 8)
    return struct.pack("<Q", len(js)) + js + b"".join(blobs)


def write_bundle(model, out_dir, name, version, dtype="F32", licence=None, sources=(), notes=None,
                 overwrite=False, tool_version="0.1", training=None, intended_use=None):
    """Write `out_dir` atomically (temp dir + rename). Returns the manifest dict."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir}: exists (use overwrite)")
    arrays = keras_arrays(model)
    data = encode_safetensors(arrays, dtype, {"architecture": ARCHITECTURE, "naming": "keras"})
    if dtype == "F16":
        notes = ((notes + "; ") if notes else "") + "values rounded from float32 to float16 on export"
    provenance = {"createdAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "sources": list(sources), "tool": "brixia training/export_bundle.py",
                  "toolVersion": tool_version}
    if notes:
        provenance["notes"] = notes
    manifest = {
        "format": "brixia-model-bundle", "formatVersion": 1, "name": name, "version": version,
        "architecture": ARCHITECTURE, "inputSize": 512, "inputChannels": 1,
        "preprocessing": "brixia-cohen-equalize-4096", "outputs": OUTPUTS,
        "licence": licence or "unspecified: weights trained by the Brixia project; check the training data licences "
                              "(cohen images per-image licences, annotations CC BY-NC-SA 4.0)",
        "intendedUse": intended_use or INTENDED_USE, "isTestFixture": False,
        "weights": {"file": "weights.safetensors", "sha256": hashlib.sha256(data).hexdigest(), "dtype": dtype,
                    "tensorCount": len(arrays), "parameterCount": int(sum(a.size for _, a in arrays)),
                    "naming": NAMING},
        "provenance": provenance,
    }
    if training is not None:
        manifest["training"] = training
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    try:
        (tmp / "weights.safetensors").write_bytes(data)
        (tmp / "model.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{uuid.uuid4()}"
            os.rename(out_dir, old)
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def read_bundle_into(model, bundle_dir):
    """Load a bundle's weights (F32 or F16) into `model`, checking the manifest's SHA-256."""
    import torch
    from safetensors.numpy import load
    from .keras_h5 import keras_to_torch
    bundle_dir = Path(bundle_dir)
    manifest = json.loads((bundle_dir / "model.json").read_text())
    data = (bundle_dir / manifest["weights"]["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["weights"]["sha256"]:
        raise ValueError(f"{bundle_dir}: weights SHA-256 does not match model.json")
    tensors = load(data)
    with torch.no_grad():
        for name, t, layout in model.keras_tensors():
            t.copy_(torch.from_numpy(keras_to_torch(tensors[name].astype(np.float32), layout)))
    return manifest
