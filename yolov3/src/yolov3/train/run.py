"""One training run: :func:`fit` and the :class:`Run` it executes.

``fit`` is what ``yolov3 train`` and ``torchrun ... -m yolov3 train`` call; with torchrun's
environment it trains with DistributedDataParallel, one process per device.

Steps: join the process group (torchrun) -> seed -> read and check the data -> build the
network (prior biases, optional pretrained weights, optional frozen backbone) -> optimizer,
schedule, EMA, AMP -> restore a checkpoint when resuming -> per epoch: train, validate the
EMA weights (rank 0), log, write ``last.pt`` and, when AP50 improves, ``best.pt``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from yolov3.checkpoint import (
    copy_checkpoint,
    load_checkpoint,
    save_checkpoint,
    seed_everything,
)
from yolov3.config import ModelConfig, TrainConfig, derive_config, optimizer_steps_per_epoch
from yolov3.data import (
    Augmentation,
    DetectionDataset,
    build_loader,
    read_dataset,
    read_holdout,
    ready_for_training,
)
from yolov3.devices import resolve_device
from yolov3.model import build_model, unwrap
from yolov3.train.distributed import (
    barrier,
    broadcast_value,
    cleanup_distributed,
    setup_distributed,
    torchrun_info,
)
from yolov3.train.ema import ModelEMA
from yolov3.train.loop import TrainState, amp_settings, train_one_epoch, validate
from yolov3.train.loss import YoloLoss
from yolov3.train.optimizer import build_optimizer
from yolov3.train.preview import save_batch_preview
from yolov3.train.resume import restore_state, resumed_configs, run_checkpoint
from yolov3.train.run_dir import run_dir_index, run_dir_path
from yolov3.train.run_log import RunLog, epoch_line, validations_since_best
from yolov3.train.scheduler import build_schedule
from yolov3.train.training_data import (
    CachedDataset,
    as_single_class,
    available_memory,
    check_cache_fits,
)
from yolov3.train.transfer import load_pretrained


def fit(
    config: TrainConfig,
    model_config: ModelConfig | None = None,
    arch: str = "yolov3",
    resume: str | Path | None = None,
    device: str | None = None,
    stop_after: int | None = None,
    model: torch.nn.Module | None = None,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Train a whole run (see this module's docstring for the steps); returns its summary.

    Args:
        config: the run's hyperparameters (data, schedule, loss, output folder...).
        model_config: the network; by default ``arch`` with the dataset's classes.
        arch: ``"yolov3"`` or ``"yolov3-tiny"`` when ``model_config`` is None.
        resume: a ``last.pt`` to continue exactly where it stopped, in the folder it lies
            in; its saved configs win (``config`` is ignored).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when present.
        stop_after: end after this many epochs of this call (the schedule still spans
            ``config.epochs``), as if the run were interrupted there.
        model: train this network (a :class:`yolov3.model.DetectorBase`: ``config``,
            ``backbone``, ``head_convs()``) instead of building one; pass it again to resume.
        epochs: with ``resume``, extend (or set) the run's total number of epochs.

    Raises:
        RunFolderError: the run folder holds another run (see ``TrainConfig.exist_ok``), or
            the resumed run has already finished its epochs.

    Returns:
        ``{"best_ap50", "last", "best", "epochs", "history", "out"}``.
    """
    return Run(config, model_config, arch, resume, device, stop_after, model, epochs).execute()


def multiscale_range(img_size: int) -> tuple[int, int]:
    """About 0.75x..1.5x ``img_size`` in multiples of 32 (320..608 for 416)."""
    return max(32, round(img_size * 0.77 / 32) * 32), round(img_size * 1.46 / 32) * 32


class Run:
    """A training run; ``execute()`` trains it and returns its summary."""

    def __init__(
        self,
        config: TrainConfig,
        model_config: ModelConfig | None = None,
        arch: str = "yolov3",
        resume: str | Path | None = None,
        device: str | None = None,
        stop_after: int | None = None,
        model: torch.nn.Module | None = None,
        epochs: int | None = None,
    ) -> None:
        self.model = model
        if model is not None:
            model_config = model.config
        self.checkpoint = load_checkpoint(resume) if resume else None
        if self.checkpoint is not None:
            config, model_config = resumed_configs(self.checkpoint, Path(resume), epochs)
        self.config, self.arch, self.stop_after = config, arch, stop_after
        self.model_config = model_config
        info = torchrun_info()
        self.device = resolve_device(device, info.local_rank if info.enabled else None)
        timeout = timedelta(minutes=config.dist_timeout_min)
        self.dist = setup_distributed(info, self.device, timeout)
        self.out = self._run_folder()
        # absolute paths, so that a resume from another folder finds the data and the run
        self.config = replace(
            self.config,
            out=str(self.out),
            exist_ok=False,
            data=_absolute(self.config.data),
            val_data=_absolute(self.config.val_data),
        )

    def _run_folder(self) -> Path:
        """The absolute run folder (chosen by rank 0, the same on every rank)."""
        cfg = self.config
        if self.checkpoint is not None:
            return Path(cfg.out)
        index = 0
        if self.dist.is_main:
            index = run_dir_index(cfg.out, cfg.project, cfg.name, cfg.exist_ok)
            run_dir_path(cfg.out, cfg.project, cfg.name, index).mkdir(parents=True, exist_ok=True)
        index = int(broadcast_value(float(index), self.dist))
        return run_dir_path(cfg.out, cfg.project, cfg.name, index)

    def say(self, message: str) -> None:
        if self.dist.is_main:
            tqdm.write(message)

    # --- setup -------------------------------------------------------------------------
    def _read_data(self) -> tuple[Any, Any]:
        cfg = self.config
        if not cfg.data:
            raise ValueError("no training data: set TrainConfig.data (yolov3 train --data PATH)")
        if cfg.val_fraction is not None:
            record = self.out / "split.json" if self.dist.is_main else None
            train, val = read_holdout(
                cfg.data, cfg.data_format, cfg.val_fraction, cfg.seed, record, self.say
            )
            splits = "the rest", f"{cfg.val_fraction:g} held out, seed {cfg.seed}"
        else:
            train = read_dataset(cfg.data, cfg.data_format, cfg.train_split)
            train = ready_for_training(train, self.say)
            val = read_dataset(cfg.val_data or cfg.data, cfg.data_format, cfg.val_split)
            val = ready_for_training(val, self.say)
            splits = cfg.train_split or "all", cfg.val_split or "all"
        if cfg.single_cls:
            train, val = as_single_class(train), as_single_class(val)
        self.say(
            f"data: {len(train.records)} training images ({splits[0]}), "
            f"{len(val.records)} validation images ({splits[1]}), "
            f"{len(train.class_names)} classes"
        )
        return train, val

    def _resolve_model_config(self, data: Any) -> ModelConfig:
        mc, class_names = self.model_config, list(data.class_names)
        if mc is None:
            names = tuple(class_names)
            # the dataset's own COCO ids, so that detections round-trip to its annotations
            ids = () if data.default_category_ids() else tuple(data.category_ids)
            kw = {"num_classes": len(names), "class_names": names, "category_ids": ids}
            if self.arch == "yolov3-tiny":
                return ModelConfig.tiny(**kw)
            return ModelConfig(arch=self.arch, **kw)
        if mc.num_classes != len(class_names):
            raise ValueError(
                f"the model has {mc.num_classes} classes but the dataset {self.config.data} has "
                f"{len(class_names)} ({', '.join(class_names)})"
            )
        return mc

    def _build_model(self, model_config: ModelConfig) -> torch.nn.Module:
        model = self.model if self.model is not None else build_model(model_config)
        model.init_head_biases(self.config.img_size)
        if self.config.weights and self.checkpoint is None:
            self.say(load_pretrained(model, self.config.weights, self.config.weights_cutoff))
        return model.to(self.device)

    def _build_loaders(self, train_data: Any, val_data: Any) -> tuple[Any, Any]:
        cfg, dist = self.config, self.dist
        dataset = self._train_dataset(train_data)
        # A seeded per-epoch permutation (also with one process), so resumes replay exactly.
        sampler = DistributedSampler(
            dataset, num_replicas=dist.world_size, rank=dist.rank, shuffle=True, seed=cfg.seed
        )
        pin = self.device.type == "cuda"
        loader = build_loader(
            dataset,
            cfg.batch_size,
            workers=cfg.workers,
            seed=cfg.seed,
            multiscale=multiscale_range(cfg.img_size) if cfg.multi_scale else None,
            sampler=sampler,
            pin_memory=pin,
        )
        val_set = DetectionDataset(val_data, cfg.img_size, augment=False, seed=cfg.seed)
        val_loader = build_loader(val_set, cfg.batch_size, workers=cfg.workers, pin_memory=pin)
        return loader, val_loader

    def _train_dataset(self, train_data: Any) -> DetectionDataset:
        cfg = self.config
        kwargs = {
            "augment": cfg.augment,
            "mosaic": cfg.mosaic,
            "seed": cfg.seed,
            "aug": Augmentation(**cfg.aug),
        }
        if cfg.cache != "ram":
            return DetectionDataset(train_data, cfg.img_size, **kwargs)
        size = multiscale_range(cfg.img_size)[1] if cfg.multi_scale else cfg.img_size
        needed = check_cache_fits(train_data, size, available_memory())
        self.say(
            f"caching {len(train_data.records)} training images in RAM (~{needed / 2**20:.0f} MiB)"
        )
        progress = cfg.progress and self.dist.is_main
        return CachedDataset(train_data, cfg.img_size, max_size=size, progress=progress, **kwargs)

    def _wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if not self.dist.enabled:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def _set_frozen(self, state: TrainState, frozen: bool) -> None:
        plain = unwrap(state.model)
        if plain.backbone_frozen == frozen:
            return
        plain.freeze_backbone(frozen)
        state.model = self._wrap(plain)  # DDP must be rebuilt when trainable params change
        self.say("backbone frozen" if frozen else "backbone unfrozen")

    def _build_state(self, model: torch.nn.Module, model_config: ModelConfig, loader: Any):
        cfg, world = self.config, self.dist.world_size
        accumulate = max(1, round(cfg.nominal_batch / (cfg.batch_size * world)))
        amp_dtype, needs_scaler = amp_settings(cfg, self.device)
        return TrainState(
            model=self._wrap(model),
            criterion=YoloLoss(model_config, cfg).to(self.device),
            optimizer=build_optimizer(model, cfg, cfg.batch_size * world, accumulate),
            schedule=build_schedule(cfg, len(loader)),
            config=cfg,
            accumulate=accumulate,
            device=self.device,
            dist=self.dist,
            ema=ModelEMA(model, cfg.ema_decay, cfg.ema_tau) if cfg.ema else None,
            scaler=torch.amp.GradScaler("cuda") if needs_scaler else None,
            amp_dtype=amp_dtype,
            on_first_batch=self._preview(model_config) if self.checkpoint is None else None,
        )

    def _preview(self, model_config: ModelConfig):
        """The hook that writes ``train_batch0.jpg`` (main process only)."""
        if not self.dist.is_main:
            return None
        path, names = self.out / "train_batch0.jpg", model_config.class_names

        def write(images: torch.Tensor, targets: torch.Tensor) -> None:
            save_batch_preview(path, images, targets, names)

        return write

    def _restore(self, state: TrainState) -> tuple[int, float, list[dict]]:
        ck = self.checkpoint
        if ck is None:
            return 0, -1.0, []
        restore_state(state, ck)
        self.say(f"resumed from epoch {ck['epoch']} of {self.config.epochs}")
        return int(ck["epoch"]), float(ck["best_fitness"]), list(ck.get("history", []))

    # --- the loop ------------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        deterministic = torch.are_deterministic_algorithms_enabled()
        benchmark = torch.backends.cudnn.benchmark
        try:
            return self._execute()
        finally:
            torch.use_deterministic_algorithms(deterministic)
            torch.backends.cudnn.benchmark = benchmark
            cleanup_distributed()

    def _derive(self, train_images: int, val_images: int) -> TrainConfig:
        """Fill in the settings left to the data (:func:`derive_config`) and say which."""
        before = self.config
        cfg = derive_config(
            before, train_images, val_images, self.device.type, self.dist.world_size
        )
        new = [name for name in cfg.derived if getattr(before, name) is None]
        if new:
            steps = optimizer_steps_per_epoch(
                train_images, cfg.batch_size, cfg.nominal_batch, self.dist.world_size
            )
            values = ", ".join(f"{name} {getattr(cfg, name)}" for name in new)
            self.say(
                f"derived from {train_images} training and {val_images} validation images: "
                f"{values} ({steps} optimizer steps per epoch; --set NAME=VALUE overrides)"
            )
        return cfg

    def _execute(self) -> dict[str, Any]:
        seed_everything(self.config.seed + self.dist.rank, self.config.deterministic)
        train_data, val_data = self._read_data()
        self.config = cfg = self._derive(len(train_data.records), len(val_data.records))
        if self.device.type == "cuda" and not cfg.deterministic:
            torch.backends.cudnn.benchmark = True  # fastest kernels per input shape
        model_config = self._resolve_model_config(train_data)
        model = self._build_model(model_config)
        loader, val_loader = self._build_loaders(train_data, val_data)
        state = self._build_state(model, model_config, loader)
        start, best, history = self._restore(state)
        log = RunLog(self.out, history) if self.dist.is_main else None
        last, best_path = self.out / "last.pt", self.out / "best.pt"
        self.say(
            f"{model_config.arch}, {model_config.num_classes} classes, {cfg.img_size}px, "
            f"batch {cfg.batch_size} x {self.dist.world_size} process(es), accumulate "
            f"{state.accumulate}, {len(loader)} batches per epoch, device {self.device}"
        )
        self.started = time.perf_counter()
        try:
            best = self._loop(state, model_config, loader, val_loader, log, start, best)
        finally:
            if log is not None:
                log.close()
        return {
            "best_ap50": best,
            "last": last,
            "best": best_path if best_path.exists() else last,
            "epochs": cfg.epochs,
            "history": log.history if log is not None else [],
            "out": self.out,
            "skipped_steps": state.bad_total,
        }

    def _loop(self, state, model_config, loader, val_loader, log, start: int, best: float) -> float:
        """Train the remaining epochs; returns the best validation AP50."""
        epoch = start
        while epoch < self.config.epochs:
            cfg, t0 = self.config, time.perf_counter()
            self._set_frozen(state, epoch < cfg.freeze_epochs)
            loader.batch_sampler.set_epoch(epoch)
            row = {"epoch": epoch + 1, **train_one_epoch(state, loader, epoch)}
            row.update(val_ap50="", val_ap="")
            if cfg.time_budget_min is not None:
                self._replan(state, len(loader), epoch + 1 - start, epoch + 1)
            last_epoch = epoch + 1 >= self.config.epochs
            if self.dist.is_main and ((epoch + 1) % cfg.val_interval == 0 or last_epoch):
                net = state.ema.module if state.ema is not None else unwrap(state.model)
                result = validate(net, val_loader, self.device, cfg)
                row.update(val_ap50=result.ap50, val_ap=result.ap)
            row["seconds"] = time.perf_counter() - t0
            stale = 0
            if log is not None:
                best = self._save(state, model_config, row, best, log)
                stale = validations_since_best(log.history)
            barrier(self.dist)
            epoch += 1
            if self.stop_after is not None and epoch - start >= self.stop_after:
                break
            if self._out_of_patience(stale, epoch):
                break
        return best

    def _save(self, state, model_config, row: dict[str, Any], best: float, log: RunLog) -> float:
        """Log the epoch, write last.pt (best.pt, epochN.pt); returns the best AP50 so far."""
        epoch = row["epoch"]
        improved = row["val_ap50"] != "" and row["val_ap50"] > best
        best = max(best, row["val_ap50"]) if improved else best
        log.log_epoch(row)
        last = self.out / "last.pt"
        save_checkpoint(
            run_checkpoint(state, model_config, self.config, epoch, best, log.history), last
        )
        if improved:
            copy_checkpoint(last, self.out / "best.pt")
        period = self.config.save_period
        if period and epoch % period == 0:
            copy_checkpoint(last, self.out / f"epoch{epoch}.pt")
        self.say(epoch_line(row, self.config.epochs))
        return best

    def _out_of_patience(self, stale: int, epoch: int) -> bool:
        """Whether AP50 has not improved for ``patience`` validations (decided by rank 0)."""
        patience = self.config.patience
        if not patience or epoch >= self.config.epochs:
            return False
        stop = bool(broadcast_value(float(stale >= patience), self.dist))
        if stop:
            self.say(
                f"stopped early after epoch {epoch}: validation AP50 has not improved for "
                f"{patience} validations; best.pt holds the best weights"
            )
        return stop

    def _replan(self, state: TrainState, batches: int, done: int, finished: int) -> TrainConfig:
        """Fit the number of epochs to the time budget from the speed so far (rank 0 decides).

        Validation time counts at the rate of the epochs validated so far (~1 in val_interval).
        """
        per_epoch = (time.perf_counter() - self.started) / done
        fits = int(self.config.time_budget_min * 60 / per_epoch)
        epochs = int(broadcast_value(float(max(finished, fits)), self.dist))
        if epochs != self.config.epochs:
            self.config = replace(self.config, epochs=epochs)
            state.config = self.config
            state.schedule = build_schedule(self.config, batches)
        return self.config


def _absolute(path: str | None) -> str | None:
    """``path`` made absolute when it names an existing file or folder, else unchanged."""
    return str(Path(path).resolve()) if path and Path(path).exists() else path
