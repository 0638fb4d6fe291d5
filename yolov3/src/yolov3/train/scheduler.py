"""Learning-rate schedule per batch: Darknet burn-in, then cosine or step decay.

The schedule is a pure function of the batch iteration; the trainer sets the learning rate
from it before every optimizer step, so a resumed run (which restores the iteration count)
continues exactly. Being stateless it also never complains when accumulation means several
batches pass between optimizer steps.
"""

from __future__ import annotations

import math

import numpy as np
from torch.optim import Optimizer

from yolov3.config import TrainConfig


class BurnInDecay:
    """Multiplier of ``lr0`` at batch ``it``: burn-in to 1, then decay to ``lrf``.

    Args:
        total_iters: batches in the whole run.
        burn_in_iters: batches of warm-up; 0 for none.
        shape: ``"power4"`` (Darknet: ``(it / n) ** 4``) or ``"linear"``.
        decay: ``"cosine"`` (to ``lrf``) or ``"step"`` (x ``gamma`` at each fraction in ``steps``).
    """

    def __init__(
        self,
        total_iters: int,
        burn_in_iters: int,
        shape: str = "power4",
        decay: str = "cosine",
        lrf: float = 0.01,
        steps: tuple[float, ...] = (0.8, 0.9),
        gamma: float = 0.1,
    ) -> None:
        self.total_iters = max(1, total_iters)
        self.burn_in_iters = max(0, burn_in_iters)
        self.power = 4.0 if shape == "power4" else 1.0
        self.decay, self.lrf, self.steps, self.gamma = decay, lrf, tuple(steps), gamma

    def __call__(self, it: int) -> float:
        if it < self.burn_in_iters:
            # Start a little above zero so the very first step still moves the weights.
            return max(((it + 1) / self.burn_in_iters) ** self.power, 1e-4)
        progress = min(1.0, it / self.total_iters)
        if self.decay == "cosine":
            return self.lrf + (1.0 - self.lrf) * 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.gamma ** sum(progress >= s for s in self.steps)


def burn_in_iters(config: TrainConfig, batches_per_epoch: int) -> int:
    """Warm-up length in batches: ``burn_in_epochs`` capped at ``burn_in_max_iters``."""
    config = config.with_fixed_defaults()
    return min(config.burn_in_max_iters, round(config.burn_in_epochs * batches_per_epoch))


def build_schedule(config: TrainConfig, batches_per_epoch: int) -> BurnInDecay:
    """The schedule of a run of ``config.epochs`` epochs of ``batches_per_epoch`` batches."""
    config = config.with_fixed_defaults()
    return BurnInDecay(
        total_iters=config.epochs * batches_per_epoch,
        burn_in_iters=burn_in_iters(config, batches_per_epoch),
        shape=config.burn_in,
        decay=config.scheduler,
        lrf=config.lrf,
        steps=config.lr_steps,
        gamma=config.lr_step_gamma,
    )


def set_learning_rate(optimizer: Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def accumulation_steps(it: int, warmup: int, target: int) -> int:
    """Batches per optimizer step at batch ``it``: grows from 1 to ``target`` during burn-in.

    Small datasets have only a few nominal batches per epoch; stepping after every batch
    while warming up lets them make progress from the first epoch.
    """
    if it >= warmup or warmup <= 0:
        return target
    return max(1, round(float(np.interp(it, [0, warmup], [1, target]))))
