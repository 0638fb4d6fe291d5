"""What a run's checkpoint holds, and continuing a run from one (``--resume``).

Everything that changes while training is saved: weights, EMA, optimizer, loss scaler,
iteration, RNG states and the history, so that a resumed run continues exactly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yolov3.checkpoint import capture_rng_state, restore_rng_state
from yolov3.config import ModelConfig, TrainConfig
from yolov3.model import unwrap
from yolov3.train.loop import TrainState
from yolov3.train.run_dir import RunFolderError


def run_checkpoint(
    state: TrainState,
    model_config: ModelConfig,
    config: TrainConfig,
    epoch: int,
    best: float,
    history: list[dict[str, Any]],
) -> dict[str, Any]:
    """The checkpoint of a run after ``epoch`` epochs (read back by :func:`restore_state`)."""
    return {
        "model_config": model_config.to_dict(),
        "train_config": config.to_dict(),
        "model": unwrap(state.model).state_dict(),
        "ema": state.ema.module.state_dict() if state.ema is not None else None,
        "ema_updates": state.ema.updates if state.ema is not None else 0,
        "optimizer": state.optimizer.state_dict(),
        "scheduler": {**vars(state.schedule), "iteration": state.iteration},
        "scaler": state.scaler.state_dict() if state.scaler is not None else None,
        "epoch": epoch,
        "iteration": state.iteration,
        "best_fitness": best,
        "bad_total": state.bad_total,
        "rng": capture_rng_state(),
        "history": history,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def restore_state(state: TrainState, ck: dict[str, Any]) -> None:
    """Put a :func:`run_checkpoint` back into ``state`` (and the RNGs)."""
    unwrap(state.model).load_state_dict(ck["model"])
    state.optimizer.load_state_dict(ck["optimizer"])
    if state.ema is not None and ck.get("ema") is not None:
        state.ema.module.load_state_dict(ck["ema"])
        state.ema.updates = int(ck["ema_updates"])
    if state.scaler is not None and ck.get("scaler"):
        state.scaler.load_state_dict(ck["scaler"])
    state.iteration = int(ck["iteration"])
    state.bad_total = int(ck.get("bad_total", 0))
    restore_rng_state(ck["rng"])


def resumed_configs(
    ck: dict[str, Any], path: Path, epochs: int | None
) -> tuple[TrainConfig, ModelConfig]:
    """The checkpoint's configs, writing to the folder it lies in, ``epochs`` extended."""
    config = TrainConfig.from_dict(ck["train_config"])
    config = replace(config, out=str(path.resolve().parent))
    if epochs is not None:
        if epochs < int(ck["epoch"]):
            raise RunFolderError(
                f"{path} has already trained {ck['epoch']} epochs; --epochs {epochs} is fewer"
            )
        config = replace(config, epochs=epochs)
    if int(ck["epoch"]) >= config.epochs:
        raise RunFolderError(
            f"{path}: the run has already finished all {config.epochs} epochs; give --epochs N "
            f"(more than {config.epochs}) to train it further"
        )
    return config, ModelConfig.from_dict(ck["model_config"])
