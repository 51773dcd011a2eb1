"""Load a Keras-2 `save_weights` h5 of BS-Net into the PyTorch model, by layer group + weight name.

Layouts: Conv2D (kh,kw,in,out) -> (out,in,kh,kw); Conv2DTranspose (kh,kw,out,in) -> (in,out,kh,kw)
(no spatial flip); Dense (in,out) -> (out,in). The STN flattens HWC in the model itself, so its dense
kernel needs no reordering.
"""
import h5py
import numpy as np
import torch


class KerasWeightsError(Exception):
    pass


def keras_to_torch(arr, layout):
    if layout in ("conv", "convT"):
        return np.ascontiguousarray(arr.transpose(3, 2, 0, 1))
    if layout == "dense":
        return np.ascontiguousarray(arr.T)
    return arr


def torch_to_keras(arr, layout):
    if layout in ("conv", "convT"):
        return np.ascontiguousarray(arr.transpose(2, 3, 1, 0))
    if layout == "dense":
        return np.ascontiguousarray(arr.T)
    return arr


def read_h5_tensors(path):
    """{name without ':0': float32 array} following Keras' own loader (layer_names -> weight_names)."""
    out = {}
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise KerasWeightsError(f"{path}: cannot open as HDF5 ({e})") from e
    with f:
        root = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in root.attrs:
            raise KerasWeightsError(f"{path}: no 'layer_names' attribute (not a Keras weights file)")
        for layer in root.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else layer
            g = root[layer]
            for wn in g.attrs.get("weight_names", []):
                wn = wn.decode() if isinstance(wn, bytes) else wn
                name = wn[:-2] if wn.endswith(":0") else wn
                out[name] = np.asarray(g[wn], dtype=np.float32)
    return out


def load_keras_h5(model, *paths, strict=True):
    """Copy every tensor of the h5 file(s) into `model` (later files override earlier ones).

    strict: every one of the model's 352 tensors must be present with its Keras shape.
    Returns the number of tensors copied.
    """
    tensors = {}
    for p in paths:
        tensors.update(read_h5_tensors(p))
    copied = 0
    with torch.no_grad():
        for name, t, layout in model.keras_tensors():
            if name not in tensors:
                if strict:
                    raise KerasWeightsError(f"{paths[-1]}: missing tensor {name}")
                continue
            arr = keras_to_torch(tensors[name], layout)
            if tuple(arr.shape) != tuple(t.shape):
                raise KerasWeightsError(f"{name}: shape {tensors[name].shape} does not fit {tuple(t.shape)} "
                                        f"(layout {layout})")
            t.copy_(torch.from_numpy(arr))
            copied += 1
    return copied
