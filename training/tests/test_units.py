"""Unit tests of the pieces that need no data: ops, equalize, folds, metrics, alignment target."""
import numpy as np
import torch
import torch.nn.functional as F

from bsnet.ops import ROI_BOXES, bilinear_interpolation, pool_rois


def test_identity_theta_zeroes_last_row_and_column():
    x = torch.rand(1, 3, 16, 16) + 0.5
    out = bilinear_interpolation(x, torch.tensor([[1.0, 0, 0, 0, 1, 0]]))
    assert out[0, :, -1, :].abs().max() == 0
    assert out[0, :, :, -1].abs().max() < 1e-6
    assert torch.allclose(out[0, :, 0, 0], x[0, :, 0, 0])  # u=-1 -> x=0 exactly


def test_pool_rois_equals_grid_sample_align_corners():
    x = torch.randn(2, 3, 16, 16)
    out = pool_rois(x).reshape(2, 6, 3, 16, 16)
    for r, (y1, x1, y2, x2) in enumerate(ROI_BOXES):
        ys = torch.linspace(y1, y2, 16) * 2 - 1
        xs = torch.linspace(x1, x2, 16) * 2 - 1
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack([gx, gy], -1)[None].expand(2, 16, 16, 2)
        ref = F.grid_sample(x, grid, mode="bilinear", align_corners=True)
        assert torch.allclose(out[:, r], ref, atol=1e-5)


def test_equalize_flat_and_ramp():
    from bsnet.data import equalize
    assert np.all(equalize(np.full((8, 8), 0.5)) == 1.0)  # step 0: q / max
    ramp = np.linspace(0, 1, 4096 * 4).reshape(64, 256)
    e = equalize(ramp)
    assert e.max() == 1.0 and np.all(np.diff(e.ravel()) >= 0)


def test_folds_are_stratified_and_seeded():
    from bsnet.data import cv_folds
    rows = [{"senior": np.array([g % 4] * 6)} for g in range(100)]
    f1, f2, f3 = cv_folds(rows, 5, 0), cv_folds(rows, 5, 0), cv_folds(rows, 5, 1)
    assert np.array_equal(f1, f2) and not np.array_equal(f1, f3)
    assert np.bincount(f1).tolist() == [20] * 5
    for g in range(4):  # every global-score level spread evenly over the folds
        assert np.bincount(f1[[i for i in range(100) if i % 4 == g]], minlength=5).tolist() == [5] * 5


def test_metrics_known_values():
    from evaluate import metrics
    ref = np.array([[0, 1, 2, 3, 0, 1], [1, 1, 1, 1, 1, 1]])
    pred = np.array([[0, 1, 2, 3, 0, 1], [1, 1, 1, 1, 1, 3]])
    m = metrics(pred, ref)
    assert m["mean_zone_mae"] == round(2 / 12, 4) and m["global_mae"] == 1.0
    assert m["exact_grade_accuracy"] == round(11 / 12, 4) and m["zone_mae"]["F"] == 1.0
    assert m["confusion_rows_true_cols_pred"][1][3] == 1


def test_aligned_target_fills_frame():
    from train_align import aligned_target
    m = np.zeros((128, 128), np.float32)
    m[40:90, 30:60] = 1
    m[40:90, 70:100] = 1
    t = aligned_target(m)
    rows, cols = np.nonzero(t)  # bbox + 3 px margin, rescaled: the lungs span the frame
    assert rows.min() <= 10 and rows.max() >= 117 and cols.min() <= 10 and cols.max() >= 117
    # a tilted pair is turned upright (the gap between the lungs becomes vertical again), not by 90 degrees
    from scipy import ndimage
    tilted = (ndimage.rotate(m, 15, reshape=False, order=0) > 0.5).astype(np.float32)
    t2 = aligned_target(tilted)
    gap = t2[20:108, 50:78].mean(0)
    assert gap.min() < 0.2 and t2[20:108, 10:40].mean() > 0.8


def test_score_loss_gradient_and_mae():
    from train_score import score_loss
    logits = torch.zeros(1, 6, 4, requires_grad=True)
    loss, mae = score_loss(logits, torch.tensor([[0, 1, 2, 3, 0, 0]]), 0.3)
    loss.backward()
    assert abs(mae.item() - np.mean([1.5, 0.5, 0.5, 1.5, 1.5, 1.5])) < 1e-6 and logits.grad.abs().sum() > 0


def test_recalibrate_bn_sets_the_exact_average_of_batch_statistics():
    from bsnet.layers import KBatchNorm
    from bsnet.recalibrate import recalibrate_bn
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), KBatchNorm(3, 1e-3))
    net[1].frozen = True
    net.eval()
    weight = net[0].weight.clone()
    xs = [torch.randn(4, 2, 8, 8) * (i + 1) + i for i in range(3)]

    def run():
        for x in xs:
            net(x)

    assert recalibrate_bn(net, run) == 1
    ys = [net[0](x).detach() for x in xs]
    mean = torch.stack([y.mean((0, 2, 3)) for y in ys]).mean(0)
    var = torch.stack([y.var((0, 2, 3), unbiased=True) for y in ys]).mean(0)
    bn = net[1]
    assert torch.allclose(bn.running_mean, mean, atol=1e-5)
    assert torch.allclose(bn.running_var, var, rtol=1e-5)
    # weights untouched, mode/momentum/frozen flag restored
    assert torch.equal(net[0].weight, weight) and not net.training and bn.frozen and abs(bn.momentum - 0.01) < 1e-12


def test_recalibrate_bn_refuses_when_a_layer_saw_no_batch():
    import pytest
    from bsnet.layers import KBatchNorm
    from bsnet.recalibrate import recalibrate_bn
    net = torch.nn.ModuleList([KBatchNorm(2, 1e-3), KBatchNorm(2, 1e-3)])
    with pytest.raises(RuntimeError, match="saw no batch"):
        recalibrate_bn(net, lambda: net[0](torch.randn(2, 2, 4, 4)))



def test_optical_distortion_is_radial_about_the_shifted_centre():
    from bsnet.augment import optical_coords
    rng = np.random.default_rng(0)
    yy, xx = np.meshgrid(np.arange(32.0), np.arange(32.0), indexing="ij")
    ident = optical_coords(rng, 32, shift_limit=0.0, k=0.0)
    assert np.allclose(ident[0], yy) and np.allclose(ident[1], xx)
    barrel = optical_coords(np.random.default_rng(0), 32, shift_limit=0.0, k=0.2)
    c = 16.0
    # k > 0 samples further from the centre the further out a pixel is; the centre itself stays put
    assert np.allclose(barrel[:, 16, 16], [16, 16])
    r_dst = np.hypot(yy - c, xx - c)
    r_src = np.hypot(barrel[0] - c, barrel[1] - c)
    assert np.all(r_src[r_dst > 4] > r_dst[r_dst > 4])
    assert (r_src[0, 0] - r_dst[0, 0]) > (r_src[8, 8] - r_dst[8, 8])


def test_warp_without_optical_draws_no_extra_random_numbers():
    """p_optical=0 must not consume random numbers: runs made before it existed (the shipped model) reproduce."""
    from bsnet.augment import warp

    class Counting:
        def __init__(self):
            self.rng, self.calls = np.random.default_rng(5), []

        def __getattr__(self, name):
            def call(*a, **k):
                self.calls.append(name)
                return getattr(self.rng, name)(*a, **k)
            return call

    a = np.zeros((32, 32), np.float32)
    a[8:24, 8:24] = 1
    r = Counting()
    warp([a], r, 32, p_affine=0, p_elastic=0, p_grid=0)
    assert r.calls == ["random", "random", "random"]  # the affine, elastic and grid decisions only
    r = Counting()
    out = warp([a], r, 32, p_affine=0, p_elastic=0, p_grid=0, p_optical=1.0)[0]
    assert r.calls[:4] == ["random"] * 4 and "uniform" in r.calls
    assert not np.allclose(out, a) and 0 <= out.min() and out.max() <= 1 + 1e-6
