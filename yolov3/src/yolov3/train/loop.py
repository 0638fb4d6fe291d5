"""The training loop: ``train_one_epoch`` (one pass with accumulation, AMP and a divergence
guard) and ``validate`` (COCO metrics of a model on a loader).

:func:`yolov3.train.fit` runs them epoch after epoch (see :mod:`yolov3.train.run`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from yolov3.config import ModelConfig, TrainConfig
from yolov3.devices import native_bf16
from yolov3.evaluate import evaluate_detections, predict_loader
from yolov3.model import unwrap
from yolov3.train.distributed import DistInfo, reduce_mean
from yolov3.train.ema import ModelEMA
from yolov3.train.loss import YoloLoss
from yolov3.train.scheduler import BurnInDecay, accumulation_steps, set_learning_rate


class TrainingDiverged(RuntimeError):
    """Too many non-finite losses or gradients in a row; the message says what to change."""


@dataclass
class TrainState:
    """Everything that changes while training, in one place (and in every checkpoint)."""

    model: nn.Module  # possibly wrapped in DistributedDataParallel
    criterion: YoloLoss
    optimizer: torch.optim.Optimizer
    schedule: BurnInDecay
    config: TrainConfig
    accumulate: int  # batches per optimizer step once burn-in is over
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    dist: DistInfo = field(default_factory=DistInfo)
    ema: ModelEMA | None = None
    scaler: torch.amp.GradScaler | None = None
    amp_dtype: torch.dtype | None = None  # autocast dtype, None = full precision
    iteration: int = 0  # batches trained so far, over the whole run
    pending: int = 0  # batches whose gradients wait for the next optimizer step
    bad_in_row: int = 0  # consecutive skipped batches (non-finite loss or gradient)
    bad_total: int = 0
    # called once with the first batch's images and targets (the run's train_batch0.jpg)
    on_first_batch: Callable[[torch.Tensor, torch.Tensor], None] | None = None

    @property
    def lr(self) -> float:
        return self.config.lr0 * self.schedule(self.iteration)


def amp_settings(config: TrainConfig, device: torch.device) -> tuple[torch.dtype | None, bool]:
    """Autocast dtype and whether a GradScaler is needed: bf16 where the GPU computes it
    natively (compute capability 8.0+), else fp16 with a scaler."""
    if not (config.amp and device.type == "cuda"):
        return None, False
    if native_bf16(device):
        return torch.bfloat16, False
    return torch.float16, True


def _skip(state: TrainState, reason: str, epoch: int, bar: tqdm | None) -> None:
    """Drop the accumulated gradients of a bad batch; stop after too many in a row."""
    state.optimizer.zero_grad(set_to_none=True)
    state.pending = 0
    state.bad_in_row += 1
    state.bad_total += 1
    msg = (
        f"epoch {epoch} batch {state.iteration}: {reason}; step skipped ({state.bad_total} so far)"
    )
    if state.dist.is_main:
        (bar.write if bar is not None else print)(msg)
    if state.bad_in_row >= state.config.max_bad_steps:
        raise TrainingDiverged(
            f"{state.bad_in_row} non-finite losses or gradients in a row (last: {reason}) at "
            f"epoch {epoch}, lr {state.lr:.3g}. Lower lr0 (now {state.config.lr0}), lengthen "
            f"the warm-up (burn_in_epochs, now {state.config.burn_in_epochs}), keep grad_clip "
            f"on (now {state.config.grad_clip}), or run `yolov3 data check` on the dataset; "
            "then restart from last.pt with --resume or from scratch."
        )


def _optimizer_step(state: TrainState, epoch: int, bar: tqdm | None) -> None:
    """Clip, check and apply the accumulated gradients, then update the EMA."""
    set_learning_rate(state.optimizer, state.lr)
    params = [p for p in state.model.parameters() if p.grad is not None]
    if state.scaler is not None:
        state.scaler.unscale_(state.optimizer)
    max_norm = state.config.grad_clip if state.config.grad_clip > 0 else math.inf
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm) if params else torch.tensor(0.0)
    if state.scaler is not None:
        # fp16: inf gradients are how the scaler finds its range; it skips those steps itself
        # and lowers its scale. Such a step is counted like any other skipped one (no EMA
        # update; too many in a row stop the run), so persistent overflow cannot go unseen.
        scale = state.scaler.get_scale()
        state.scaler.step(state.optimizer)
        state.scaler.update()
        if state.scaler.get_scale() < scale:
            _skip(state, f"fp16 gradients overflowed at loss scale {scale:g}", epoch, bar)
            return
    elif not torch.isfinite(norm):
        _skip(state, f"non-finite gradient norm {norm.item()}", epoch, bar)
        return
    else:
        state.optimizer.step()
    state.optimizer.zero_grad(set_to_none=True)
    state.pending = 0
    state.bad_in_row = 0
    if state.ema is not None:
        state.ema.update(state.model)


def _loss_is_finite(loss: torch.Tensor, info: DistInfo) -> bool:
    """Agreed over all ranks, so that every DDP process skips the same batches."""
    ok = torch.isfinite(loss.detach()).float().reshape(1)
    return bool(reduce_mean(ok, info).item() == 1.0)


def _forward_backward(
    state: TrainState, images: torch.Tensor, targets: torch.Tensor, epoch: int, bar: tqdm | None
) -> dict[str, torch.Tensor] | None:
    """Forward, loss and backward of one batch; None when its loss was not finite (skipped)."""
    with torch.autocast(
        state.device.type, dtype=state.amp_dtype or torch.float32, enabled=bool(state.amp_dtype)
    ):
        outputs = state.model(images)
    losses = state.criterion(outputs, targets)
    # Sum over images (x world size, since DDP averages gradients over ranks).
    loss = losses["total"] * images.shape[0] * state.dist.world_size
    if not _loss_is_finite(loss, state.dist):
        _skip(state, f"non-finite loss {loss.item()}", epoch, bar)
        return None
    (state.scaler.scale(loss) if state.scaler is not None else loss).backward()
    state.pending += 1
    return losses


def train_one_epoch(state: TrainState, loader: Any, epoch: int) -> dict[str, float]:
    """One pass over ``loader``; returns mean losses, images/s and the skipped-step count."""
    model, cfg = state.model, state.config
    model.train()  # a frozen backbone stays in eval mode (DetectorBase.train)
    warmup = state.schedule.burn_in_iters
    sums = torch.zeros(4, device=state.device)
    seen, skipped_before, start = 0, state.bad_total, time.perf_counter()
    bar = tqdm(
        loader,
        desc=f"epoch {epoch + 1}/{cfg.epochs}",
        disable=not (cfg.progress and state.dist.is_main),
        dynamic_ncols=True,
        leave=False,
    )
    last = len(loader) - 1
    for index, (images, targets, _) in enumerate(bar):
        if state.on_first_batch is not None:
            state.on_first_batch(images, targets)
            state.on_first_batch = None
        images = images.to(state.device, non_blocking=True)
        targets = targets.to(state.device)
        due = accumulation_steps(state.iteration, warmup, state.accumulate)
        step_now = state.pending + 1 >= due or index == last  # the epoch's leftover steps too
        # DDP: gradients are averaged over the ranks only on the batch that steps.
        synced = model.no_sync() if isinstance(model, DDP) and not step_now else nullcontext()
        with synced:
            losses = _forward_backward(state, images, targets, epoch, bar)
        if losses is not None:
            if step_now:
                _optimizer_step(state, epoch, bar)
            terms = torch.stack([losses[k].detach() for k in ("box", "obj", "cls", "total")])
            sums += terms * images.shape[0]
            seen += images.shape[0]
        state.iteration += 1
        if bar.disable is False and losses is not None:
            bar.set_postfix(
                loss=f"{losses['total'].item():.4f}", lr=f"{state.lr:.2e}", size=images.shape[-1]
            )
    if state.pending:  # leftover gradients of the last partial accumulation
        _optimizer_step(state, epoch, bar)
    bar.close()
    totals = reduce_mean(torch.cat([sums, sums.new_tensor([seen])]), state.dist)
    means = (totals[:4] / totals[4].clamp_min(1)).tolist()
    elapsed = time.perf_counter() - start
    return {
        **dict(zip(("box", "obj", "cls", "total"), means, strict=True)),
        "lr": state.lr,
        "skipped": state.bad_total - skipped_before,
        "images_per_s": float(totals[4]) * state.dist.world_size / max(elapsed, 1e-9),
    }


def validate(model: nn.Module, loader: Any, device: torch.device, config: TrainConfig) -> Any:
    """COCO-style evaluation (``EvalResult``) of ``model`` on ``loader``."""
    model_config: ModelConfig = unwrap(model).config
    predictions, truths = predict_loader(
        model, loader, device, config.val_conf, config.val_iou, progress=config.progress
    )
    names = list(model_config.class_names) or None
    return evaluate_detections(predictions, truths, model_config.num_classes, names)
