"""Write a Brixia model bundle (model.json + weights.safetensors) from the PyTorch BS-Net.

The weights file is the canonical serialization of docs/model-bundle.md ("Weights checksum"), the
same bytes `brixia model import-keras` writes (Sources/ModelBundle): Keras tensor names (no ':0')
and layouts, tensors sorted by name (code point), canonical header JSON, metadata
{"architecture", "naming": "keras"}; so its SHA-256 is the content checksum model.json records.
"""
import datetime
import hashlib
import json
import os
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

def head_prefix(h):
    """Tensor-name prefix of score head h (0: the authors' head, unprefixed), as the engine's headPrefix."""
    return "" if h == 0 else f"head{h}/"


def keras_arrays(model, extra_heads=()):
    """[(keras name, float32 array in Keras layout)] in model order (the file sorts them by name); each of
    `extra_heads` (ScoreHead modules sharing `model`'s trunk) under "head<h>/" for h = 1, 2, ..."""
    parts = [("", model)] + [(head_prefix(h), head) for h, head in enumerate(extra_heads, 1)]
    return [(prefix + name, torch_to_keras(t.detach().cpu().numpy().astype(np.float32), layout))
            for prefix, part in parts for name, t, layout in part.keras_tensors()]


_BYTES = {"F32": 4, "F16": 2}


def canonical_header(entries, metadata=None):
    """Canonical header bytes for [(name, dtype, shape)] (any order): keys sorted by code point at
    every level, no whitespace, offsets of the tensors laid end to end in name order, padded with
    spaces so 8 + len is a multiple of 8 (docs/model-bundle.md, "Weights checksum")."""
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name, dtype, shape in sorted(entries, key=lambda e: e[0]):
        n = _BYTES[dtype] * int(np.prod(shape, dtype=np.int64))
        header[name] = {"data_offsets": [offset, offset + n], "dtype": dtype, "shape": [int(d) for d in shape]}
        offset += n
    js = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return js + b" " * ((-(8 + len(js))) % 8)


def encode_safetensors(arrays, dtype="F32", metadata=None):
    """The canonical serialization of [(name, array)]: its SHA-256 is the content checksum."""
    np_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
    blobs = {}
    for name, arr in arrays:
        a = np.ascontiguousarray(arr, dtype=np.float32)
        if dtype == "F16":
            h = a.astype(np_dtype)
            if np.any(np.isinf(h) & np.isfinite(a)):
                raise ValueError(f"tensor '{name}' has values outside the float16 range; store float32")
            blobs[name] = (list(a.shape), h.tobytes())
        else:
            blobs[name] = (list(a.shape), a.astype(np_dtype).tobytes())
    if len(blobs) != len(arrays) or "__metadata__" in blobs:
        raise ValueError("tensor names must be unique and not '__metadata__'")
    js = canonical_header([(n, dtype, shape) for n, (shape, _) in blobs.items()], metadata)
    return struct.pack("<Q", len(js)) + js + b"".join(blobs[n][1] for n in sorted(blobs))


def canonical_sha256(data):
    """Content checksum of any safetensors bytes (formatVersion 2): the SHA-256 of their canonical
    serialization, whatever the tensor order, JSON spelling or padding of `data`."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", None)
    body = memoryview(data)[8 + n:]
    js = canonical_header([(k, v["dtype"], v["shape"]) for k, v in header.items()], metadata)
    h = hashlib.sha256(struct.pack("<Q", len(js)) + js)
    for name in sorted(header):
        b, e = header[name]["data_offsets"]
        h.update(body[b:e])
    return h.hexdigest()


def write_bundle(model, out_dir, name, version, dtype="F32", licence=None, sources=(), notes=None,
                 overwrite=False, tool_version="0.1", training=None, intended_use=None, readout=None,
                 extra_heads=()):
    """Write `out_dir` atomically (temp dir + rename). Returns the manifest dict. `extra_heads`: more score
    heads on the same trunk; the engine averages all heads' probabilities (model.json scoreHeads)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir}: exists (use overwrite)")
    arrays = keras_arrays(model, extra_heads)
    data = encode_safetensors(arrays, dtype, {"architecture": ARCHITECTURE, "naming": "keras"})
    if dtype == "F16":
        notes = ((notes + "; ") if notes else "") + "values rounded from float32 to float16 on export"
    provenance = {"createdAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "sources": list(sources), "tool": "brixia training/export_bundle.py",
                  "toolVersion": tool_version}
    if notes:
        provenance["notes"] = notes
    manifest = {
        "format": "brixia-model-bundle", "formatVersion": 2, "name": name, "version": version,
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
    if extra_heads:
        manifest["scoreHeads"] = 1 + len(extra_heads)
    if readout is not None:  # {"decision", "mirrorAverage"[, "notes"]}: the engine's Readout (ModelManifest.ReadoutSpec)
        manifest["readout"] = readout
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the bundle is a normal folder once renamed
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
    # formatVersion 1 recorded the whole file's SHA-256; from 2 on it is the content checksum.
    digest = canonical_sha256(data) if manifest.get("formatVersion", 1) >= 2 else hashlib.sha256(data).hexdigest()
    if digest != manifest["weights"]["sha256"]:
        raise ValueError(f"{bundle_dir}: weights SHA-256 does not match model.json")
    tensors = load(data)
    with torch.no_grad():
        for name, t, layout in model.keras_tensors():
            t.copy_(torch.from_numpy(keras_to_torch(tensors[name].astype(np.float32), layout)))
    return manifest
