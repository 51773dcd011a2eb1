"""trunk_from_bundle.py: the shipped trunk, and a head that never saw a grade (the OOF calibration's premise)."""
import pytest
import torch

from conftest import REPO

BUNDLE = REPO / "models" / "bsnet-brixia-own"
needs_bundle = pytest.mark.skipif(not (BUNDLE / "model.json").exists(), reason=f"no shipped bundle at {BUNDLE}")


@needs_bundle
def test_trunk_is_the_bundles_and_the_head_is_fresh(tmp_path):
    import trunk_from_bundle
    from bsnet.bundle import read_bundle_into
    from bsnet.model import BSNet

    out = tmp_path / "trunk.pt"
    trunk_from_bundle.main(["--bundle", str(BUNDLE), "--out", str(out), "--seed", "0"])
    st = torch.load(out, weights_only=False)
    assert st["trained"] == ["align", "seg"] and "score" in st["untrained"]
    model = BSNet()
    model.load_state_dict(st["model"])
    shipped = BSNet()
    read_bundle_into(shipped, BUNDLE)
    for part in ("encoder", "decoder", "stn"):
        a, b = getattr(model, part).state_dict(), getattr(shipped, part).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), part
    head, shipped_head = model.head.state_dict(), shipped.head.state_dict()
    differing = [k for k in head if head[k].is_floating_point() and not torch.equal(head[k], shipped_head[k])]
    assert len(differing) > len(head) // 2, "the head must not be the shipped (all-label) head"
    torch.manual_seed(0)
    fresh = BSNet().head.state_dict()
    assert all(torch.equal(head[k], fresh[k]) for k in head), "the head is the seeded initialisation"
