"""Optimizer with weight decay on convolution (and linear) weights only."""

from __future__ import annotations

import torch
from torch import nn

from yolov3.config import TrainConfig


def parameter_groups(model: nn.Module) -> tuple[list, list, list]:
    """Split parameters into (decayed conv weights, norm weights, biases).

    Frozen parameters are included: they get no gradient, so the optimizer leaves them alone
    until they are unfrozen.
    """
    decay, norm, bias = [], [], []
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if name == "bias":
                bias.append(param)
            elif isinstance(module, nn.modules.batchnorm._NormBase | nn.GroupNorm | nn.LayerNorm):
                norm.append(param)
            else:
                decay.append(param)
    return decay, norm, bias


def build_optimizer(
    model: nn.Module, config: TrainConfig, world_batch: int, accumulate: int
) -> torch.optim.Optimizer:
    """SGD (Nesterov) or Adam/AdamW for ``model``.

    Weight decay is scaled so that its effect per image matches ``nominal_batch`` even when
    the effective batch (``world_batch * accumulate``) differs from it.
    """
    config = config.with_fixed_defaults()
    decay, norm, bias = parameter_groups(model)
    wd = config.weight_decay * world_batch * accumulate / config.nominal_batch
    groups = [
        {"params": decay, "weight_decay": wd},
        {"params": norm, "weight_decay": 0.0},
        {"params": bias, "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr0, momentum=config.momentum, nesterov=config.nesterov
        )
    betas = (config.momentum, 0.999)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr0, betas=betas)
    return torch.optim.AdamW(groups, lr=config.lr0, betas=betas)
