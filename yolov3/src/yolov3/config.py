"""Frozen configuration dataclasses, saved inside every checkpoint.

Scale order everywhere in this package is the order of the network's outputs, coarsest
first, as in Darknet's cfg files: YOLOv3 yields strides (32, 16, 8), YOLOv3-tiny (32, 16).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
    img_size: int = 416  # square network input side in pixels, a multiple of 32
    augment: bool = True  # photometric and geometric augmentation of training images
    mosaic: bool = False  # 4-image mosaic augmentation (helps large runs, slows small ones)
    aug: dict[str, Any] = field(default_factory=dict)  # yolov3.data.Augmentation overrides
    multi_scale: bool = False  # change the input size every batch, ~0.75x..1.5x img_size
    workers: int = 2  # DataLoader worker processes per rank
    # --- schedule ---
    epochs: int = 100  # passes over the training set
    time_budget_min: float | None = None  # else: re-plan the epochs to end after N minutes
    batch_size: int = 16  # images per forward pass, per process
    nominal_batch: int = 64  # gradients are accumulated until this many images (Darknet: 64)
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) | "adam" | "adamw"
    lr0: float = 0.01  # peak learning rate after burn-in (SGD ~0.01, Adam ~0.001)
    lrf: float = 0.01  # final learning rate as a fraction of lr0 (cosine) / floor (step)
    momentum: float = 0.937  # SGD momentum, or Adam beta1
    nesterov: bool = True  # Nesterov momentum for SGD
    weight_decay: float = 5e-4  # L2 on convolution weights only, scaled to the nominal batch
    scheduler: str = "cosine"  # decay after burn-in: "cosine" | "step"
    lr_steps: tuple[float, ...] = (0.8, 0.9)  # "step": fractions of the run where lr drops
    lr_step_gamma: float = 0.1  # "step": factor applied at each drop
    burn_in: str = "power4"  # warm-up shape: Darknet's (i/n)^4 "power4" | "linear"
    burn_in_epochs: float = 3.0  # warm-up length in epochs ...
    burn_in_max_iters: int = 1000  # ... but at most this many batches (Darknet's burn_in)
    grad_clip: float = 10.0  # max gradient L2 norm before each optimizer step; 0 = off
    max_bad_steps: int = 10  # stop after this many non-finite losses/gradients in a row
    ema: bool = True  # keep an exponential moving average of the weights for val and best
    ema_decay: float = 0.9999  # EMA decay once warmed up
    ema_tau: float = 2000.0  # EMA warm-up: decay * (1 - exp(-updates / tau))
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
    val_interval: int = 1  # validate (AP50 with the EMA weights) every k epochs and at the end
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
    freeze_epochs: int = 0  # keep the backbone frozen for the first N epochs

    def __post_init__(self) -> None:
        choices = {
            "optimizer": ("sgd", "adam", "adamw"),
            "scheduler": ("cosine", "step"),
            "burn_in": ("power4", "linear"),
            "box_loss": ("ciou", "giou", "mse"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r}; expected one of {allowed}")
        if self.img_size % 32:
            raise ValueError(f"img_size must be a multiple of 32, got {self.img_size}")
        for name in ("epochs", "batch_size", "nominal_batch", "val_interval", "max_bad_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.dist_timeout_min > 0:
            raise ValueError(f"dist_timeout_min must be > 0, got {self.dist_timeout_min}")
        for name in ("lr0", "lrf", "weight_decay", "grad_clip", "ema_tau"):
            if getattr(self, name) < 0 or (name == "lr0" and not self.lr0 > 0):
                raise ValueError(
                    f"{name} must be {'> 0' if name == 'lr0' else '>= 0'}, got "
                    f"{getattr(self, name)}"
                )
        for name in ("workers", "freeze_epochs", "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction:g}")
        if self.val_fraction is not None and self.val_data:
            raise ValueError("val_fraction holds out part of `data`; it excludes val_data")

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
        for name in ("lr_steps", "obj_balance"):
            if name in values:
                values[name] = tuple(values[name])
        if "aug" in values:
            values["aug"] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in values["aug"].items()
            }
        return cls(**values)
