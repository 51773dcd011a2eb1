"""Parity (b): PyTorch -> Brixia bundle, checked without Swift and, when a built `brixia` is found, with it.

The binary is taken from $BRIXIA_BIN, else the repo's .build/release or .build/debug.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REF, REPO, needs_reference

H5 = REF / "bscore_scaled_weights.h5"


def brixia_bin():
    cands = [os.environ.get("BRIXIA_BIN")] + [str(REPO / ".build" / c / "brixia") for c in ("release", "debug")]
    return next((c for c in cands if c and os.access(c, os.X_OK)), None)


needs_brixia = pytest.mark.skipif(brixia_bin() is None, reason="no built brixia binary (set BRIXIA_BIN or swift build)")


@pytest.fixture(scope="module")
def loaded():
    from bsnet.keras_h5 import load_keras_h5
    from bsnet.model import BSNet
    m = BSNet().eval()
    load_keras_h5(m, H5)
    return m


@pytest.fixture(scope="module")
def bundle(loaded, tmp_path_factory):
    from bsnet.bundle import write_bundle
    d = tmp_path_factory.mktemp("b") / "bundle"
    write_bundle(loaded, d, "parity", "1")
    return d


@needs_reference
def test_bundle_round_trip_is_exact(loaded, bundle):
    from bsnet.bundle import read_bundle_into
    from bsnet.model import BSNet
    m2 = BSNet().eval()
    man = read_bundle_into(m2, bundle)
    assert man["weights"]["tensorCount"] == 352 and man["weights"]["parameterCount"] == 20947836
    assert man["architecture"] == "bsnet-resnet18-unetpp-512" and man["isTestFixture"] is False
    for (n1, t1, _), (n2, t2, _) in zip(loaded.keras_tensors(), m2.keras_tensors()):
        assert n1 == n2 and torch.equal(t1, t2), n1


@needs_reference
def test_bundle_tensors_equal_h5_datasets(bundle):
    """Keras names and layouts: every safetensors tensor equals the h5 dataset bit for bit."""
    import h5py
    from safetensors.numpy import load_file
    t = load_file(str(bundle / "weights.safetensors"))
    with h5py.File(H5, "r") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        assert len(names) == len(t) == 352
        for n in names:
            assert np.array_equal(t[n.split("/", 1)[1][:-2]], f[n][()]), n


def test_float16_bundle(tmp_path):
    from bsnet.bundle import read_bundle_into, write_bundle
    from bsnet.model import BSNet
    torch.manual_seed(0)
    m = BSNet().eval()
    man = write_bundle(m, tmp_path / "f16", "t", "1", dtype="F16")
    assert man["weights"]["dtype"] == "F16" and "float16" in man["provenance"]["notes"]
    m2 = BSNet().eval()
    read_bundle_into(m2, tmp_path / "f16")
    for (n, a, _), (_, b, _) in zip(m.keras_tensors(), m2.keras_tensors()):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4), n


@needs_reference
@needs_brixia
def test_bytes_identical_to_import_keras_and_verify(bundle, tmp_path):
    exe = brixia_bin()
    ref = tmp_path / "swift"
    subprocess.run([exe, "model", "import-keras", str(H5), "--out", str(ref)], check=True, capture_output=True)
    assert (bundle / "weights.safetensors").read_bytes() == (ref / "weights.safetensors").read_bytes()
    r = subprocess.run([exe, "model", "verify", str(bundle)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("OK:"), r.stdout + r.stderr


@needs_reference
@needs_brixia
def test_swift_engine_scores_match_pytorch(loaded, bundle, tmp_path):
    exe = brixia_bin()
    out = tmp_path / "out"
    r = subprocess.run([exe, "infer", "--model", str(bundle), "--input", str(REF / "input_cxr.npy"), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    x = torch.from_numpy(np.ascontiguousarray(np.load(REF / "input_cxr.npy").transpose(0, 3, 1, 2)))
    with torch.no_grad():
        ours = loaded(x)
    swift = np.load(out / "scores.npy")
    assert np.abs(swift - ours["scores"].numpy()).max() <= 1e-3
    assert np.abs(np.load(out / "affine.npy") - ours["theta"].numpy()).max() <= 1e-4


# The spec's worked example (docs/model-bundle.md, "Weights checksum"); the Swift writer is tested
# against the same header and SHA-256 (Tests/ModelBundleTests/ContentChecksumTests.swift).
EXAMPLE_HEADER = ('{"B/bias":{"data_offsets":[0,4],"dtype":"F32","shape":[1]},"__metadata__":{"architecture":"demo/1"},'
                  '"b/kernel":{"data_offsets":[4,12],"dtype":"F32","shape":[2]}}')
EXAMPLE_SHA256 = "e89b837fe610b534df23e77a168fb75402245c5295db779a791cccc1043235f9"


def test_canonical_bytes_match_the_spec():
    import hashlib
    import struct
    from bsnet.bundle import canonical_sha256, encode_safetensors
    arrays = [("b/kernel", np.array([1, -2], np.float32)), ("B/bias", np.array([0.5], np.float32))]
    data = encode_safetensors(arrays, "F32", {"architecture": "demo/1"})
    expected = struct.pack("<Q", 168) + EXAMPLE_HEADER.encode() + b" " * 7 + np.array([0.5, 1, -2], "<f4").tobytes()
    assert data == expected
    assert hashlib.sha256(data).hexdigest() == EXAMPLE_SHA256 == canonical_sha256(data)
    # Source order does not matter.
    assert encode_safetensors(arrays[::-1], "F32", {"architecture": "demo/1"}) == data


def test_checksum_ignores_data_order_and_json_spelling():
    import hashlib
    import json
    import struct
    from bsnet.bundle import canonical_sha256, encode_safetensors
    rng = np.random.default_rng(0)
    arrays = [(n, rng.standard_normal(s).astype(np.float32)) for n, s in
              [("conv0/kernel", (3, 3, 1, 2)), ("C1_reduced/bias", (4,)), ("_odd", (1,)), ("bn0/gamma", (2,))]]
    data = encode_safetensors(arrays, "F32", {"architecture": "a", "naming": "keras"})
    # Another writer: reversed data order, indented JSON with '\/' escapes, other padding.
    header, blob = {"__metadata__": {"naming": "keras", "architecture": "a"}}, b""
    for n, a in reversed(arrays):
        header[n] = {"shape": list(a.shape), "dtype": "F32", "data_offsets": [len(blob), len(blob) + a.nbytes]}
        blob += a.astype("<f4").tobytes()
    js = json.dumps(header, indent=3).replace("/", "\\/").encode() + b"   "
    other = struct.pack("<Q", len(js)) + js + blob
    assert hashlib.sha256(other).hexdigest() != hashlib.sha256(data).hexdigest()
    assert canonical_sha256(other) == canonical_sha256(data) == hashlib.sha256(data).hexdigest()
    changed = other[:-1] + bytes([other[-1] ^ 1])
    assert canonical_sha256(changed) != canonical_sha256(data)


def test_shipped_model_checksum_is_its_content_checksum():
    """models/bsnet-brixia-own predates the canonical layout: its manifest holds the content checksum."""
    from bsnet.bundle import canonical_sha256
    d = REPO / "models" / "bsnet-brixia-own"
    man = json.loads((d / "model.json").read_text())
    assert man["formatVersion"] == 2
    assert canonical_sha256((d / "weights.safetensors").read_bytes()) == man["weights"]["sha256"]


@needs_reference
def test_export_records_the_readout(tmp_path):
    """The readout the figures were measured with is written by the exporter, not by hand, and the Swift side
    reads it back (verify validates the decision rule)."""
    import export_bundle
    out = tmp_path / "m"
    export_bundle.main(["--keras-h5", str(H5), "--out", str(out), "--name", "t", "--version", "1",
                        "--readout-decision", "median", "--mirror-average", "--readout-notes", "why"])
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["readout"] == {"decision": "median", "mirrorAverage": True, "notes": "why"}
    plain = tmp_path / "p"
    export_bundle.main(["--keras-h5", str(H5), "--out", str(plain), "--name", "t", "--version", "1"])
    assert "readout" not in json.loads((plain / "model.json").read_text())
    with pytest.raises(SystemExit):
        export_bundle.main(["--keras-h5", str(H5), "--out", str(tmp_path / "x"), "--name", "t", "--version", "1",
                            "--mirror-average"])
    exe = brixia_bin()
    if exe:
        r = subprocess.run([exe, "model", "verify", str(out)], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.startswith("OK:"), r.stdout + r.stderr


@needs_reference
@needs_brixia
def test_swift_engine_averages_extra_heads_as_pytorch(loaded, tmp_path):
    """A bundle with a second score head on the same trunk (model.json scoreHeads 2): the engine's scores are the
    mean of the two heads' softmaxes as PyTorch computes them, within the single-head tolerance."""
    import copy
    from bsnet.bundle import write_bundle
    other = copy.deepcopy(loaded)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in other.head.parameters():
            p.mul_(1 + 0.5 * torch.randn(p.shape, generator=g))
    d = tmp_path / "ens"
    manifest = write_bundle(loaded, d, "ens", "1", extra_heads=[other.head])
    assert manifest["scoreHeads"] == 2
    out = tmp_path / "out"
    r = subprocess.run([brixia_bin(), "infer", "--model", str(d), "--input", str(REF / "input_cxr.npy"), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    x = torch.from_numpy(np.ascontiguousarray(np.load(REF / "input_cxr.npy").transpose(0, 3, 1, 2)))
    with torch.no_grad():
        a, b = loaded(x)["scores"].numpy(), other(x)["scores"].numpy()
    assert np.abs(a - b).max() > 1e-2, "the heads must differ for the mean to be tested"
    assert np.abs(np.load(out / "scores.npy") - (a + b) / 2).max() <= 1e-3
