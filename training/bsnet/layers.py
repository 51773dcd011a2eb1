"""Keras-equivalent building blocks that remember their Keras weight names."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class KBatchNorm(nn.Module):
    """Keras BatchNormalization (channels-last in Keras, NCHW here). scale=False has no gamma (bn_data)."""

    def __init__(self, channels, eps, scale=True, momentum=0.99):
        super().__init__()
        self.eps = eps
        self.momentum = 1.0 - momentum  # torch convention
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.frozen = False  # Keras trainable=False: always inference mode

    def forward(self, x):
        training = self.training and not self.frozen
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training, self.momentum, self.eps)

    def keras_tensors(self, prefix):
        out = []
        if self.weight is not None:
            out.append((f"{prefix}/gamma", self.weight, "vec"))
        out += [(f"{prefix}/beta", self.bias, "vec"),
                (f"{prefix}/moving_mean", self.running_mean, "vec"),
                (f"{prefix}/moving_variance", self.running_var, "vec")]
        return out


def conv_tensors(conv, prefix, layout="conv"):
    out = [(f"{prefix}/kernel", conv.weight, layout)]
    if conv.bias is not None:
        out.append((f"{prefix}/bias", conv.bias, "vec"))
    return out
