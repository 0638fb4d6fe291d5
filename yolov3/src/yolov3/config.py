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
    """

    arch: str = "yolov3"
    num_classes: int = 80
    anchors: tuple[tuple[Anchor, ...], ...] = YOLOV3_ANCHORS
    strides: tuple[int, ...] = (32, 16, 8)
    class_names: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
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
        )
