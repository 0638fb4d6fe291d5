"""Exponential moving average of a model's weights, used for validation and the best model."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from yolov3.model import unwrap


class ModelEMA:
    """Keeps ``ema = d * ema + (1 - d) * model`` after every optimizer step.

    The decay ramps up as ``decay * (1 - exp(-updates / tau))``, so the average follows the
    model closely while it changes fast early in training and smooths it later.
    Floating-point buffers (BatchNorm statistics) are averaged too; integer ones are copied.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, tau: float = 2000.0) -> None:
        self.module = copy.deepcopy(unwrap(model)).eval()
        self.module.requires_grad_(False)
        self.decay = decay
        self.tau = tau
        self.updates = 0

    def current_decay(self) -> float:
        return self.decay * (1.0 - math.exp(-self.updates / self.tau))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.current_decay()
        source = unwrap(model).state_dict()
        for name, value in self.module.state_dict().items():
            if value.dtype.is_floating_point:
                value.mul_(d).add_(source[name].detach().to(value.dtype), alpha=1.0 - d)
            else:
                value.copy_(source[name])

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["model"])
        self.updates = int(state["updates"])
