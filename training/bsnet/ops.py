"""The custom ops of the Keras BS-Net, restated in PyTorch (NCHW).

Semantics follow ../shared/docs/bsnet-architecture.md section 3; every quirk is deliberate.
"""
import torch
import torch.nn.functional as F

# pool_rois boxes [y1, x1, y2, x2] in the aligned frame; region r = 2*row + col.
ROI_BOXES = ((0.0, 0.0, 0.4, 0.5), (0.0, 0.5, 0.4, 1.0),
             (0.3, 0.0, 0.7, 0.5), (0.3, 0.5, 0.7, 1.0),
             (0.6, 0.0, 1.0, 0.5), (0.6, 0.5, 1.0, 1.0))


def swish(x):
    return x * torch.sigmoid(x)


def tf_resize(x, size):
    """tf.image.resize bilinear (half-pixel centres, no antialias) == F.interpolate(align_corners=False)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)


def bilinear_interpolation(feat, theta):
    """The authors' BilinearInterpolation layer with output size = input size.

    Not grid_sample: pixel coordinates are scaled by W (not W-1), corners are trunc()'d then clipped,
    and the weights use the clipped corners, so samples at x >= W-1 or x <= -1 become exactly 0 and
    -1 < x < 0 extrapolates linearly. Differentiable in feat and theta (through the weights).
    """
    b, c, h, w = feat.shape
    dev, dt = feat.device, torch.float32
    u = torch.linspace(-1.0, 1.0, w, device=dev, dtype=dt)
    v = torch.linspace(-1.0, 1.0, h, device=dev, dtype=dt)
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    grid = torch.stack([uu.reshape(-1), vv.reshape(-1), torch.ones(h * w, device=dev, dtype=dt)], 0)  # (3, HW)
    sampled = torch.matmul(theta.reshape(b, 2, 3).to(dt), grid)  # (B, 2, HW)
    x = 0.5 * (sampled[:, 0] + 1.0) * float(w)
    y = 0.5 * (sampled[:, 1] + 1.0) * float(h)
    x0 = torch.trunc(x).detach()
    y0 = torch.trunc(y).detach()
    x1 = (x0 + 1).clamp(0, w - 1)
    y1 = (y0 + 1).clamp(0, h - 1)
    x0 = x0.clamp(0, w - 1)
    y0 = y0.clamp(0, h - 1)
    wa = ((x1 - x) * (y1 - y)).unsqueeze(1)
    wb = ((x1 - x) * (y - y0)).unsqueeze(1)
    wc = ((x - x0) * (y1 - y)).unsqueeze(1)
    wd = ((x - x0) * (y - y0)).unsqueeze(1)
    flat = feat.reshape(b, c, h * w)

    def gather(yy, xx):
        idx = (yy * w + xx).long().unsqueeze(1).expand(b, c, h * w)
        return torch.gather(flat, 2, idx)

    out = wa * gather(y0, x0) + wb * gather(y1, x0) + wc * gather(y0, x1) + wd * gather(y1, x1)
    return out.reshape(b, c, h, w)


def _crop_axis(n, lo, hi, device):
    """tf.image.crop_and_resize sample positions along one axis (crop size = n), float32 as TF does."""
    lo_t = torch.tensor(lo, dtype=torch.float32)
    hi_t = torch.tensor(hi, dtype=torch.float32)
    scale = (hi_t - lo_t) * (n - 1) / (n - 1) if n > 1 else torch.tensor(0.0)
    pos = lo_t * (n - 1) + torch.arange(n, dtype=torch.float32) * scale
    p0 = torch.floor(pos)
    p1 = torch.ceil(pos).clamp(max=n - 1)
    frac = pos - p0
    return p0.long().to(device), p1.long().to(device), frac.to(device)


def pool_rois(feat):
    """crop_and_resize of the 6 ROI boxes at the map's own size: (B,C,H,W) -> (6B,C,H,W), row b*6+r.

    The sample grid is separable, so it is two 1-D linear interpolations (rows, then columns);
    the same values as grid_sample(align_corners=True) at those coordinates.
    """
    b, c, h, w = feat.shape
    crops = []
    for (y1, x1, y2, x2) in ROI_BOXES:
        r0, r1, fy = _crop_axis(h, y1, y2, feat.device)
        c0, c1, fx = _crop_axis(w, x1, x2, feat.device)
        top = feat[:, :, r0, :]
        bot = feat[:, :, r1, :]
        fy_ = fy.view(1, 1, h, 1)
        rows = top + (bot - top) * fy_
        left = rows[:, :, :, c0]
        right = rows[:, :, :, c1]
        crops.append(left + (right - left) * fx.view(1, 1, 1, w))
    return torch.stack(crops, 1).reshape(b * 6, c, h, w)
