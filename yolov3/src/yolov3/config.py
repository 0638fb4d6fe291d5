"""Frozen configuration dataclasses, saved inside every checkpoint.

Scale order everywhere in this package is the order of the network's outputs, coarsest
first, as in Darknet's cfg files: YOLOv3 yields strides (32, 16, 8), YOLOv3-tiny (32, 16).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

Anchor = tuple[int, int]  # (width, height) in input pixels

# Darknet's COCO anchors, grouped per output scale (the cfg's `mask` lines).
YOLOV3_ANCHORS: tuple[tuple[Anchor, ...], ...] = (
    ((116, 90), (156, 198), (373, 326)),  # stride 32
    ((30, 61), (62, 45), (59, 119)),  # stride 16
    ((10, 13), (16, 30), (33, 23)),  # stride 8
)
YOLOV3_TINY_ANCHORS: tuple[tuple[Anchor, ...], ...] = (
    ((81, 82), (135, 169), (344, 319)),  # stride 32
    ((10, 14), (23, 27), (37, 58)),  # stride 16
)


@dataclass(frozen=True)
class ModelConfig:
    """What a network is: architecture, classes and anchors.

    Attributes:
        arch: ``"yolov3"`` or ``"yolov3-tiny"``.
        num_classes: number of object classes C; outputs carry ``5 + C`` channels per anchor.
        anchors: per output scale, the anchors ``(w, h)`` in input pixels.
        strides: per output scale, the downsampling factor of the grid.
        class_names: optional names, index = class id.
        category_ids: optional COCO category ids, index = class id (from the training
            dataset's COCO JSON or ``categories.json``); empty = unknown (``class + 1``).
    """

    arch: str = "yolov3"
    num_classes: int = 80
    anchors: tuple[tuple[Anchor, ...], ...] = YOLOV3_ANCHORS
    strides: tuple[int, ...] = (32, 16, 8)
    class_names: tuple[str, ...] = field(default_factory=tuple)
    category_ids: tuple[int, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.category_ids and len(self.category_ids) != self.num_classes:
            raise ValueError(
                f"{len(self.category_ids)} category ids for num_classes={self.num_classes}"
            )
        if self.arch not in ("yolov3", "yolov3-tiny"):
            raise ValueError(f"unknown arch {self.arch!r}; expected 'yolov3' or 'yolov3-tiny'")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if len(self.anchors) != len(self.strides):
            raise ValueError(
                f"{len(self.anchors)} anchor groups for {len(self.strides)} strides; "
                "give one group of anchors per output scale"
            )
        if self.class_names and len(self.class_names) != self.num_classes:
            raise ValueError(
                f"{len(self.class_names)} class names for num_classes={self.num_classes}"
            )

    @classmethod
    def tiny(cls, num_classes: int = 80, **kwargs: Any) -> ModelConfig:
        return cls(
            arch="yolov3-tiny",
            num_classes=num_classes,
            anchors=YOLOV3_TINY_ANCHORS,
            strides=(32, 16),
            **kwargs,
        )

    @property
    def num_anchors(self) -> int:
        """Anchors per scale (3 for both architectures)."""
        return len(self.anchors[0])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        anchors = tuple(tuple(tuple(a) for a in group) for group in data["anchors"])
        return cls(
            arch=data["arch"],
            num_classes=data["num_classes"],
            anchors=anchors,
            strides=tuple(data["strides"]),
            class_names=tuple(data.get("class_names", ())),
            category_ids=tuple(int(c) for c in data.get("category_ids", ())),
        )


BoxLoss = str  # "ciou" | "giou" | "mse"


@dataclass(frozen=True)
class TrainConfig:
    """How a network is trained: every hyperparameter of a run, saved inside its checkpoints.

    Defaults follow Darknet's YOLOv3 recipe where it is sound, and the tuned values of later
    YOLO trainers where they train faster (loss gains, EMA, warm-up of the accumulation).
    Fields left at None (input size, nominal batch, warm-up, EMA time constant, validation
    interval, frozen epochs) are derived from the dataset size, the epochs or time budget and
    the starting weights when the run starts: see :func:`derive_config` for the rules and
    the measurements behind them. A value given explicitly is always kept.
    """

    # --- data ---
    data: str = ""  # dataset folder or file (YOLO txt, VOC or COCO JSON; format auto-detected)
    data_format: str | None = None  # "yolo" | "voc" | "coco"; None = detect from the files
    train_split: str | None = "train"  # split of `data` to train on (None = the whole dataset)
    val_data: str | None = None  # validation dataset; None = `val_split` of `data`
    val_split: str | None = "val"  # split used for validation (None = the whole `val_data`)
    # else: hold out this fraction of `data` (read whole, no splits) for validation, stratified
    # by class and seeded by `seed`; the images of each part are listed in the run's split.json
    val_fraction: float | None = None
    # square network input side in pixels, a multiple of 32; None = derived (see derive_config)
    img_size: int | None = None
    augment: bool = True  # photometric and geometric augmentation of training images
    mosaic: bool = False  # 4-image mosaic augmentation (helps large runs, slows small ones)
    aug: dict[str, Any] = field(default_factory=dict)  # yolov3.data.Augmentation overrides
    multi_scale: bool = False  # change the input size every batch, ~0.75x..1.5x img_size
    workers: int = 2  # DataLoader worker processes per rank
    cache: str | None = None  # "ram": keep decoded, resized training images in memory
    single_cls: bool = False  # train every class as one class, "object"
    # --- schedule ---
    epochs: int = 100  # passes over the training set
    time_budget_min: float | None = None  # else: re-plan the epochs to end after N minutes
    batch_size: int = 16  # images per forward pass, per process
    nominal_batch: int | None = None  # images per optimizer step (accumulated); None = derived
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) | "adam" | "adamw"
    lr0: float = 0.01  # peak learning rate after burn-in (SGD ~0.01, Adam ~0.001)
    lrf: float = 0.01  # final learning rate as a fraction of lr0 (cosine) / floor (step)
    momentum: float = 0.937  # SGD momentum, or Adam beta1
    nesterov: bool = True  # Nesterov momentum for SGD
    weight_decay: float = 5e-4  # L2 on convolution weights only, scaled to the nominal batch
    scheduler: str = "cosine"  # decay after burn-in: "cosine" | "step"
    lr_steps: tuple[float, ...] = (0.8, 0.9)  # "step": fractions of the run where lr drops
    lr_step_gamma: float = 0.1  # "step": factor applied at each drop
    burn_in: str | None = None  # warm-up shape: Darknet's (i/n)^4 "power4" | "linear"
    burn_in_epochs: float | None = None  # warm-up length in epochs ...
    burn_in_max_iters: int = 1000  # ... but at most this many batches (Darknet's burn_in)
    grad_clip: float = 10.0  # max gradient L2 norm before each optimizer step; 0 = off
    max_bad_steps: int = 10  # stop after this many non-finite losses/gradients in a row
    ema: bool = True  # keep an exponential moving average of the weights for val and best
    ema_decay: float = 0.9999  # EMA decay once warmed up
    ema_tau: float | None = None  # EMA warm-up in updates: decay * (1 - exp(-updates / tau))
    amp: bool = True  # mixed precision on CUDA (bf16 on compute capability 8.0+, else fp16)
    # DDP: how long a process waits for the others (e.g. while rank 0 validates and saves)
    dist_timeout_min: float = 120.0
    # --- loss ---
    box_loss: BoxLoss = "ciou"  # "ciou" | "giou" | Darknet's "mse" on (tx, ty, tw, th)
    box_gain: float = 0.05  # weight of the box loss
    obj_gain: float = 1.0  # weight of the objectness loss (scaled by (img_size/640)^2)
    cls_gain: float = 0.5  # weight of the class loss (scaled by num_classes/80)
    ignore_thresh: float = 0.7  # no "no object" loss where a prediction overlaps a truth this much
    iou_aware: bool = False  # objectness target = IoU of the predicted box instead of 1
    label_smoothing: float = 0.0  # class targets become 1 - eps/2 and eps/2
    multi_anchor_thresh: float | None = None  # also assign anchors whose shape IoU exceeds this
    wh_max: float = 6.0  # bound on tw, th before exp: boxes at most e^6 times their anchor
    # objectness weight of the scales at strides 8, 16, 32, 64 (any other stride: 1.0): fine
    # grids hold many cells and small objects, coarse grids few
    obj_balance: tuple[float, ...] = (4.0, 1.0, 0.4, 0.1)
    loss_ref_size: float = 640.0  # objectness loss scaled by input area / loss_ref_size^2
    loss_ref_classes: float = 80.0  # class loss scaled by num_classes / loss_ref_classes
    loss_ref_scales: float = 3.0  # every loss term scaled by loss_ref_scales / output scales
    # --- validation and output ---
    val_interval: int | None = None  # validate (AP50, EMA weights) every k epochs and at the end
    patience: int = 0  # stop when AP50 has not improved for this many validations; 0 = never
    save_period: int = 0  # also keep epoch<N>.pt every this many epochs; 0 = only last/best
    val_conf: float = 0.001  # confidence threshold for validation detections
    val_iou: float = 0.6  # NMS IoU threshold for validation detections
    # run folder (last.pt, best.pt, results.csv, results.png, events): `out` when given (it
    # must be new or empty unless exist_ok), else the first free project/name, name2, name3...
    out: str = ""
    project: str = "runs/train"
    name: str = "exp"
    exist_ok: bool = False  # reuse an existing run folder on purpose (its files are replaced)
    seed: int = 0  # seeds Python, NumPy, torch and the data order
    deterministic: bool = False  # deterministic kernels and ordering (exact resume, slower)
    progress: bool = True  # tqdm progress bars
    # --- transfer learning ---
    weights: str | None = None  # start from a .pt checkpoint or a Darknet .weights file
    weights_cutoff: int | None = None  # Darknet: load layers 0..N-1 only; 0 = the backbone
    freeze_epochs: int | None = None  # keep the backbone frozen for the first N epochs
    # fields that derive_config filled in (None above) for this run, recorded in checkpoints
    derived: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        choices = {
            "optimizer": ("sgd", "adam", "adamw"),
            "scheduler": ("cosine", "step"),
            "burn_in": ("power4", "linear", None),
            "box_loss": ("ciou", "giou", "mse"),
            "cache": ("ram", None),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                shown = tuple(a for a in allowed if a is not None)
                raise ValueError(f"{name}={getattr(self, name)!r}; expected one of {shown}")
        if self.img_size is not None and (self.img_size < 32 or self.img_size % 32):
            raise ValueError(f"img_size must be a positive multiple of 32, got {self.img_size}")
        for name in ("epochs", "batch_size", "nominal_batch", "val_interval", "max_bad_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.dist_timeout_min > 0:
            raise ValueError(f"dist_timeout_min must be > 0, got {self.dist_timeout_min}")
        if self.time_budget_min is not None and not self.time_budget_min > 0:
            raise ValueError(f"time_budget_min must be > 0, got {self.time_budget_min}")
        for name in ("lr0", "lrf", "weight_decay", "grad_clip", "ema_tau", "burn_in_epochs"):
            value = getattr(self, name)
            if value is not None and (value < 0 or (name == "lr0" and not value > 0)):
                raise ValueError(
                    f"{name} must be {'> 0' if name == 'lr0' else '>= 0'}, got {value}"
                )
        for name in ("workers", "freeze_epochs", "seed", "patience", "save_period"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction:g}")
        if self.val_fraction is not None and self.val_data:
            raise ValueError("val_fraction holds out part of `data`; it excludes val_data")

    def with_fixed_defaults(self) -> TrainConfig:
        """This config with the fields still left to the data at Darknet's large-data values
        (for the pieces used without a dataset: an optimizer, a schedule, a loop)."""
        fixed = {k: v for k, v in FIXED_DEFAULTS.items() if getattr(self, k) is None}
        return replace(self, **fixed) if fixed else self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict()``; unknown keys (from newer versions) are rejected."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}")
        values = dict(data)
        for name in ("lr_steps", "obj_balance", "derived"):
            if name in values:
                values[name] = tuple(values[name])
        if "aug" in values:
            values["aug"] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in values["aug"].items()
            }
        return cls(**values)


# --- Defaults derived from the data --------------------------------------------------------
#
# Darknet's fixed values (nominal batch 64, 1000 warm-up batches, 416 px) assume tens of
# thousands of images. Measured on a 2-core CPU, fine-tuning YOLOv3-tiny from the official
# COCO weights for 15 minutes on a 134-image VOC set: the fixed values (416 px, nominal batch
# 64 = 2 optimizer steps per epoch, EMA tau 2000, 27 epochs at 4.7 img/s) reached AP50 0.29;
# the hand-tuned small-data recipe (320 px, nominal batch 16, linear 2-epoch warm-up, EMA tau
# 200, backbone frozen for the first epoch, validation every 2nd epoch; 45 epochs at 8 img/s)
# reached 0.40 on the same data and time, and 0.83 on raccoon (160 training images). The
# rules below give exactly that recipe for raccoon (EMA tau 180 instead of 200 for the
# 134-image set) and Darknet's values from a few thousand images up.

# The values derive_config replaces; used as they are where no dataset is known.
FIXED_DEFAULTS: dict[str, Any] = {
    "img_size": 416,
    "nominal_batch": 64,
    "burn_in": "power4",
    "burn_in_epochs": 3.0,
    "ema_tau": 2000.0,
    "val_interval": 1,
    "freeze_epochs": 0,
}
MIN_STEPS_PER_EPOCH = 8  # small data: nominal batch <= images / 8, so >= 8 steps per epoch
MAX_NOMINAL_BATCH = 64  # Darknet's batch, reached from 512 training images up
EMA_TAU_EPOCHS = 20  # EMA time constant: 20 epochs of optimizer steps ...
EMA_TAU_MAX = 2000.0  # ... at most the 2000 updates of large-data trainers
WARMUP_EPOCHS_SCRATCH = 3.0  # warm-up from random weights (Darknet's burn-in, ~3 epochs)
WARMUP_EPOCHS_PRETRAINED = 2.0  # pretrained features need less (the tuned recipe's 2)
WARMUP_RUN_FRACTION = 0.1  # and never more than a tenth of a run of known length
# Validating an image costs a fraction of training on one (no backward pass, no
# augmentation): from a tenth to a half in the raccoon benchmark's epochs (results.csv, a
# shared 2-core CPU). Validating every k epochs keeps it to a few percent of the run.
VAL_COST_RATIO = 0.15  # validation images per training image worth validating each epoch
MAX_VAL_INTERVAL = 10
CPU_BUDGET_IMG_SIZE = 320  # time-budgeted CPU runs: 1.7x the images per second of 416 px
DEFAULT_IMG_SIZE = 416


def optimizer_steps_per_epoch(
    train_images: int, batch_size: int, nominal_batch: int, world_size: int = 1
) -> int:
    """Optimizer steps in one epoch: batches per process, grouped by the accumulation."""
    accumulate = max(1, round(nominal_batch / (batch_size * world_size)))
    batches = math.ceil(math.ceil(train_images / world_size) / batch_size)
    return math.ceil(batches / accumulate)


def _derived_nominal_batch(cfg: TrainConfig, train_images: int, world_size: int) -> int:
    """The largest power of two <= images / MIN_STEPS_PER_EPOCH, within [one batch, 64]."""
    floor = cfg.batch_size * world_size
    target = 2 ** int(math.log2(max(1, train_images // MIN_STEPS_PER_EPOCH)))
    return max(floor, min(MAX_NOMINAL_BATCH, target))


def _derived_warmup_epochs(cfg: TrainConfig) -> float:
    base = WARMUP_EPOCHS_PRETRAINED if cfg.weights else WARMUP_EPOCHS_SCRATCH
    if cfg.time_budget_min is not None:  # the number of epochs is not known yet
        return base
    return min(base, cfg.epochs * WARMUP_RUN_FRACTION)


def _derived_val_interval(cfg: TrainConfig, train_images: int, val_images: int) -> int:
    interval = math.ceil(val_images / max(1.0, VAL_COST_RATIO * train_images))
    if cfg.time_budget_min is None:  # at least ~10 validations in a run of known length
        interval = min(interval, max(1, cfg.epochs // 10))
    return max(1, min(MAX_VAL_INTERVAL, interval))


def derive_config(
    config: TrainConfig,
    train_images: int,
    val_images: int,
    device_type: str = "cpu",
    world_size: int = 1,
) -> TrainConfig:
    """``config`` with every field left at None filled in from the data (see the rules above).

    - ``img_size``: 320 for a time-budgeted run on the CPU, else 416.
    - ``nominal_batch``: the largest power of two <= ``train_images / 8`` (at least 8
      optimizer steps per epoch), at least one batch and at most Darknet's 64.
    - ``burn_in``: ``"linear"`` from pretrained ``weights``, Darknet's ``"power4"`` from scratch.
    - ``burn_in_epochs``: 2 from pretrained weights, 3 from scratch, at most a tenth of the
      epochs (the 1000-batch cap ``burn_in_max_iters`` still applies).
    - ``ema_tau``: 20 epochs of optimizer steps, at most 2000 updates.
    - ``val_interval``: ``ceil(val_images / (0.15 * train_images))``, 1..10, and at most
      ``epochs // 10`` when the epochs are fixed.
    - ``freeze_epochs``: 1 from pretrained weights (the new head settles before the backbone
      moves), else 0.

    The names of the derived fields are added to ``derived``.
    """
    if train_images < 1:
        raise ValueError("no training images to derive the training settings from")
    cfg, values = config, {}
    if cfg.img_size is None:
        budget_cpu = cfg.time_budget_min is not None and device_type == "cpu"
        values["img_size"] = CPU_BUDGET_IMG_SIZE if budget_cpu else DEFAULT_IMG_SIZE
    if cfg.nominal_batch is None:
        values["nominal_batch"] = _derived_nominal_batch(cfg, train_images, world_size)
    if cfg.burn_in is None:
        values["burn_in"] = "linear" if cfg.weights else "power4"
    if cfg.burn_in_epochs is None:
        values["burn_in_epochs"] = _derived_warmup_epochs(cfg)
    if cfg.ema_tau is None:
        nominal = values.get("nominal_batch", cfg.nominal_batch)
        steps = optimizer_steps_per_epoch(train_images, cfg.batch_size, nominal, world_size)
        values["ema_tau"] = float(min(EMA_TAU_MAX, EMA_TAU_EPOCHS * steps))
    if cfg.val_interval is None:
        values["val_interval"] = _derived_val_interval(cfg, train_images, val_images)
    if cfg.freeze_epochs is None:
        values["freeze_epochs"] = 1 if cfg.weights else 0
    derived = tuple(dict.fromkeys((*cfg.derived, *values)))
    return replace(cfg, **values, derived=derived)
