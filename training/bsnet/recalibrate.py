"""BatchNorm recalibration: replace running statistics by their exact average over a set of batches.

Why: Keras-style BatchNorm keeps an exponential average with momentum 0.99, so after the few hundred
optimiser steps a CPU-budget stage gets, the running statistics still carry a large share of their
initial values (mean 0, variance 1) -- and for the mask stage they were gathered at 128/256 px while the
network runs at 512 px. Inference-mode outputs then differ from what training saw. Recomputing the
statistics (as torch.optim.swa_utils.update_bn does) removes that gap without touching any weight.
"""
import torch

from .layers import KBatchNorm


def recalibrate_bn(module, run_batches):
    """Reset every KBatchNorm in `module` and set its running mean/variance to the mean, over the batches
    run by `run_batches()` (a callable that feeds `module` some batches), of the batch statistics seen in
    training mode. Frozen BatchNorms are included. Returns the number of layers updated."""
    bns = [m for m in module.modules() if isinstance(m, KBatchNorm)]
    saved = [(bn.momentum, bn.frozen) for bn in bns]
    counts = {}

    def hook(bn, _inp):
        n = counts.get(id(bn), 0)
        bn.momentum = 1.0 / (n + 1)  # cumulative average: after n+1 batches each counts equally
        counts[id(bn)] = n + 1

    handles = [bn.register_forward_pre_hook(hook) for bn in bns]
    was_training = module.training
    try:
        for bn in bns:
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.frozen = False
        module.train()
        with torch.no_grad():
            run_batches()
    finally:
        for h in handles:
            h.remove()
        for bn, (mom, frozen) in zip(bns, saved):
            bn.momentum, bn.frozen = mom, frozen
        module.train(was_training)
    missing = [bn for bn in bns if id(bn) not in counts]
    if missing:
        raise RuntimeError(f"{len(missing)} BatchNorm layers saw no batch during recalibration")
    return len(bns)
