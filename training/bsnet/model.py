"""BS-Net (ResNet-18 v2 encoder, U-Net++ decoder, STN, FPN + 6 RetinaNet heads) in PyTorch.

Mirrors BSNet(backbone_name='resnet18', input_shape=(512,512,1)) of the authors' Keras code
(../shared/docs/bsnet-architecture.md). Every weight knows its Keras name (`keras_tensors()`), so the
h5 loader and the bundle exporter share one mapping. Inputs are (B,1,H,W) in [0,1], H=W=512 for the
real model; other sizes divisible by 32 work for cheap experiments (the STN pools to 128x128 first).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import KBatchNorm, conv_tensors
from .ops import bilinear_interpolation, pool_rois, swish, tf_resize

RESNET_EPS = 2e-5
DECODER_EPS = 1e-3
IDENTITY_THETA = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


class PreActUnit(nn.Module):
    def __init__(self, name, cin, cout, stride, projection):
        super().__init__()
        self.name = name
        self.bn1 = KBatchNorm(cin, RESNET_EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = KBatchNorm(cout, RESNET_EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.sc = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if projection else None

    def forward(self, x):
        relu1 = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(relu1))))
        shortcut = self.sc(relu1) if self.sc is not None else x
        return y + shortcut, relu1

    def keras_tensors(self):
        n = self.name
        t = self.bn1.keras_tensors(f"{n}_bn1") + conv_tensors(self.conv1, f"{n}_conv1")
        t += self.bn2.keras_tensors(f"{n}_bn2") + conv_tensors(self.conv2, f"{n}_conv2")
        if self.sc is not None:
            t += conv_tensors(self.sc, f"{n}_sc")
        return t


class Encoder(nn.Module):
    """qubvel ResNet18 (pre-activation). Returns every tensor the decoder and head tap."""

    def __init__(self):
        super().__init__()
        self.bn_data = KBatchNorm(1, RESNET_EPS, scale=False)
        self.conv0 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn0 = KBatchNorm(64, RESNET_EPS)
        units, cin = [], 64
        for s, f in enumerate((64, 128, 256, 512), start=1):
            for u in (1, 2):
                stride = 2 if (u == 1 and s > 1) else 1
                units.append(PreActUnit(f"stage{s}_unit{u}", cin, f, stride, projection=(u == 1)))
                cin = f
        self.units = nn.ModuleList(units)
        self.bn1 = KBatchNorm(512, RESNET_EPS)

    def forward(self, x):
        feats = {}
        relu0 = F.relu(self.bn0(self.conv0(self.bn_data(x))))
        feats["relu0"] = relu0
        h = F.max_pool2d(F.pad(relu0, (1, 1, 1, 1)), 3, 2)  # ZeroPadding2D(1) then valid 3x3/2 pool
        for unit in self.units:
            h, relu1 = unit(h)
            feats[f"{unit.name}_relu1"] = relu1
        feats["relu1"] = F.relu(self.bn1(h))
        return feats

    def keras_tensors(self):
        t = self.bn_data.keras_tensors("bn_data") + conv_tensors(self.conv0, "conv0")
        t += self.bn0.keras_tensors("bn0")
        for unit in self.units:
            t += unit.keras_tensors()
        return t + self.bn1.keras_tensors("bn1")


# U-Net++ stage I: (filters, encoder skip tapped, input of block I-1)
DECODER_STAGES = {
    5: (16, "stage4_unit1_relu1", "relu1"),  # 16 = decoder_filters[-1]: the authors' wrap-around index
    4: (256, "stage3_unit1_relu1", "stage3_unit2_relu1"),
    3: (128, "stage2_unit1_relu1", "stage2_unit2_relu1"),
    2: (64, "relu0", "stage1_unit2_relu1"),
    1: (32, None, None),
}
ENCODER_CHANNELS = {"relu1": 512, "relu0": 64, "stage4_unit1_relu1": 256, "stage3_unit1_relu1": 128,
                    "stage3_unit2_relu1": 256, "stage2_unit1_relu1": 64, "stage2_unit2_relu1": 128,
                    "stage1_unit2_relu1": 64}


class DecoderBlock(nn.Module):
    def __init__(self, name, cin_up, cmerge, f):
        super().__init__()
        self.name = name
        self.upsample = nn.ConvTranspose2d(cin_up, f, 4, 2, 1, bias=False)  # Keras k4/s2 'same'
        self.bn1 = KBatchNorm(f, DECODER_EPS)
        self.conv2 = nn.Conv2d(cmerge, f, 3, 1, 1, bias=False)
        self.bn2 = KBatchNorm(f, DECODER_EPS)

    def forward(self, x, skips):
        up = F.relu(self.bn1(self.upsample(x)))
        merged = torch.cat([up] + skips, 1) if skips else up
        return F.relu(self.bn2(self.conv2(merged)))

    def keras_tensors(self):
        n = self.name
        return (conv_tensors(self.upsample, f"{n}_upsample", "convT") + self.bn1.keras_tensors(f"{n}_bn1")
                + conv_tensors(self.conv2, f"{n}_conv2") + self.bn2.keras_tensors(f"{n}_bn2"))


class Decoder(nn.Module):
    """build_xnet with block_type='transpose' (11 blocks) + final_conv; returns the seg logits."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleDict()
        out_ch = {}
        # block list: stage I, block J. Block I-1 upsamples the encoder 'downterm'; I-J (J>=2) upsamples
        # block (I+1)-(J-1); 1-5 upsamples 2-4.
        self.plan = []
        for (i, j) in [(5, 1), (4, 1), (4, 2), (3, 1), (3, 2), (3, 3), (2, 1), (2, 2), (2, 3), (2, 4), (1, 5)]:
            f, skip, down = DECODER_STAGES[i]
            src = down if j == 1 else f"{i + 1}-{j - 1}"
            cin = ENCODER_CHANNELS[src] if j == 1 else out_ch[src]
            skips = [] if skip is None else [skip] + [f"{i}-{k}" for k in range(1, j)]
            cmerge = f + sum(ENCODER_CHANNELS[s] if s in ENCODER_CHANNELS else out_ch[s] for s in skips)
            key = f"{i}-{j}"
            self.blocks[key.replace("-", "_")] = DecoderBlock(f"decoder_stage{key}", cin, cmerge, f)
            out_ch[key] = f
            self.plan.append((key, src, skips))
        self.final_conv = nn.Conv2d(32, 1, 3, 1, 1, bias=True)

    def forward(self, feats):
        t = dict(feats)
        for key, src, skips in self.plan:
            t[key] = self.blocks[key.replace("-", "_")](t[src], [t[s] for s in skips])
        return self.final_conv(t["1-5"])

    def keras_tensors(self):
        t = []
        for key, _, _ in self.plan:
            t += self.blocks[key.replace("-", "_")].keras_tensors()
        return t + conv_tensors(self.final_conv, "final_conv")


class STN(nn.Module):
    """Localisation net on the sigmoid mask; output theta (B,6), identity at init (zero kernel)."""

    def __init__(self):
        super().__init__()
        self.locnet_conv0 = nn.Conv2d(1, 20, 5)
        self.locnet_conv1 = nn.Conv2d(20, 20, 5)
        self.locnet_dense = nn.Linear(13520, 50)
        self.locnet_alignment = nn.Linear(50, 6)
        with torch.no_grad():
            self.locnet_alignment.weight.zero_()
            self.locnet_alignment.bias.copy_(torch.tensor(IDENTITY_THETA))

    def forward(self, mask):
        if mask.shape[-1] < 128 or mask.shape[-2] < 128:
            mask = F.interpolate(mask, size=(128, 128), mode="bilinear", align_corners=False)
        x = F.adaptive_max_pool2d(mask, 128)  # == MaxPool 4x4/4 at 512x512
        x = F.max_pool2d(x, 2)
        x = F.max_pool2d(self.locnet_conv0(x), 2)
        x = self.locnet_conv1(x)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # Keras Flatten is HWC order
        return self.locnet_alignment(F.relu(self.locnet_dense(x)))

    def keras_tensors(self):
        t = []
        for n in ("locnet_conv0", "locnet_conv1"):
            t += conv_tensors(getattr(self, n), f"stn/{n}")
        for n in ("locnet_dense", "locnet_alignment"):
            m = getattr(self, n)
            t += [(f"stn/{n}/kernel", m.weight, "dense"), (f"stn/{n}/bias", m.bias, "vec")]
        return t


class RetinaNetClassifier(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.r = r
        self.convs = nn.ModuleList([nn.Conv2d(512 if i == 0 else 8, 8, 3, 1, 1) for i in range(3)])
        self.bns = nn.ModuleList([KBatchNorm(8, DECODER_EPS) for _ in range(3)])
        self.score = nn.Conv2d(8, 4, 3, 1, 1)

    def forward(self, x):
        for conv, bn in zip(self.convs, self.bns):
            x = swish(bn(conv(x)))
        return self.score(x).mean(dim=(2, 3))  # logits after GlobalAveragePooling2D

    def keras_tensors(self):
        def sfx(k):
            return "" if k == 0 else f"_{k}"
        r = self.r
        g = f"retina_net_classifier{sfx(r)}"
        t, stats = [], []
        for i in range(3):
            blk = f"{g}/conv_block{sfx(3 * r + i)}"
            t += conv_tensors(self.convs[i], f"{blk}/conv2d{sfx(4 * r + i)}")
            bn = self.bns[i].keras_tensors(f"{blk}/batch_normalization{sfx(3 * r + i)}")
            t += bn[:2]
            stats += bn[2:]
        return t + conv_tensors(self.score, f"{g}/conv2d{sfx(4 * r + 3)}") + stats


class ScoreHead(nn.Module):
    """build_BScore after the STN: warp + hard attention + ROI pooling, FPN, 6 classifiers."""

    TAPS = ("stage1_unit1_relu1", "stage2_unit2_relu1", "stage3_unit2_relu1", "stage4_unit2_relu1")

    def __init__(self):
        super().__init__()
        self.C1_reduced = nn.Conv2d(64, 64, 1)
        self.P1 = nn.Conv2d(64, 64, 3, 1, 1)
        self.Cmid0_reduced = nn.Conv2d(128, 64, 1)
        self.Pmid0 = nn.Conv2d(64, 128, 3, 1, 1)
        self.Cmid1_reduced = nn.Conv2d(256, 128, 1)
        self.Pmid1 = nn.Conv2d(128, 256, 3, 1, 1)
        self.C5_reduced = nn.Conv2d(512, 256, 1)
        self.P5 = nn.Conv2d(256, 512, 3, 1, 1)
        self.classifiers = nn.ModuleList([RetinaNetClassifier(r) for r in range(6)])

    def forward(self, feats, theta, aligned):
        return self.classify(self.gate(feats, theta, aligned))

    def gate(self, feats, theta, aligned):
        """The parameter-free front: the four encoder taps warped by theta and masked by the aligned lungs.

        Depends only on the frozen stages, so the score stage can cache it (train_score.py --features).
        """
        gated = []
        for name in self.TAPS:
            c = feats[name]
            warped = bilinear_interpolation(c, theta)
            gated.append(warped * tf_resize(aligned, tuple(c.shape[-2:])))
        return gated

    def classify(self, gated):
        """ROI pooling, FPN and the six classifiers on gate()'s output: logits (B,6,4)."""
        c1, c2, c3, c5 = [pool_rois(g) for g in gated]
        b = gated[0].shape[0]
        p1 = swish(self.P1(tf_resize(self.C1_reduced(c1), tuple(c2.shape[-2:]))))
        q0 = swish(self.Pmid0(tf_resize(p1 + self.Cmid0_reduced(c2), tuple(c3.shape[-2:]))))
        q1 = swish(self.Pmid1(tf_resize(q0 + self.Cmid1_reduced(c3), tuple(c5.shape[-2:]))))
        p5 = swish(self.P5(q1 + self.C5_reduced(c5)))
        p5 = p5.reshape(b, 6, *p5.shape[1:])
        logits = torch.stack([clf(p5[:, r]) for r, clf in enumerate(self.classifiers)], 1)  # (B,6,4)
        return logits

    def keras_tensors(self):
        t = []
        for n in ("C1_reduced", "P1", "Cmid0_reduced", "Pmid0", "Cmid1_reduced", "Pmid1", "C5_reduced", "P5"):
            t += conv_tensors(getattr(self, n), n)
        for clf in self.classifiers:
            t += clf.keras_tensors()
        return t


class BSNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.stn = STN()
        self.head = ScoreHead()

    def segment(self, x):
        """Segmentation logits (B,1,H,W) and the encoder features."""
        feats = self.encoder(x)
        return self.decoder(feats), feats

    def forward(self, x, stages=("seg", "align", "score")):
        logits, feats = self.segment(x)
        out = {"seg_logits": logits, "seg": torch.sigmoid(logits)}
        if "align" not in stages and "score" not in stages:
            return out
        theta = self.stn(out["seg"])
        out["theta"] = theta
        out["aligned_seg"] = bilinear_interpolation(out["seg"], theta)
        if "score" in stages:
            logits6 = self.head(feats, theta, out["aligned_seg"])
            out["score_logits"] = logits6
            out["scores"] = torch.softmax(logits6, -1).reshape(-1, 3, 2, 4)
        return out

    def keras_tensors(self):
        """[(keras tensor name without ':0', torch tensor, layout)] for all 352 weights."""
        return (self.encoder.keras_tensors() + self.decoder.keras_tensors() + self.stn.keras_tensors()
                + self.head.keras_tensors())
