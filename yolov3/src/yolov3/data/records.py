"""The in-memory form every reader produces and every writer consumes.

Boxes are ``xyxy`` in absolute pixels of the original image (see :mod:`yolov3.boxes`),
whatever format they came from. Each box remembers where it was read (a line of a YOLO
label file, an object of a VOC XML, an annotation of a COCO JSON) so that
:func:`yolov3.data.check.check_dataset` can point at the exact spot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class DatasetError(ValueError):
    """A dataset cannot be read or used; the message names each file and line or object."""


@dataclass
class Problem:
    """One thing wrong with a dataset, at a place a user can open.

    Attributes:
        kind: machine-readable category (``"missing_image"``, ``"out_of_bounds"``, ...).
        where: the file, followed by ``:line`` or ``object N`` where it applies.
        message: what is wrong and what was expected.
        severity: ``"error"`` (training refuses the dataset), ``"warning"`` or ``"note"``
            (for information, e.g. classes taken from the annotations).
    """

    kind: str
    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ImageRecord:
    """One annotated image.

    Attributes:
        path: the image file.
        width, height: the image size in pixels (from the annotation where the format stores
            it, else from the image header); 0 when unknown (image missing or unreadable).
        boxes (np.ndarray[N, 4] float64): ``xyxy`` absolute pixels.
        labels (np.ndarray[N] int64): class index into ``DetectionData.class_names``; -1 for a
            class name the dataset does not declare.
        difficult (np.ndarray[N] bool): VOC ``difficult`` / COCO ``iscrowd``: kept, and
            ignored by evaluation.
        annotation: the label file the boxes came from (YOLO txt, VOC XML, COCO JSON), if any.
        sources: per box, where it was read (``"line 3"``, ``"object 2"``, ``"annotation 17"``).
        image_id: the COCO image id, kept so that round trips preserve it.
        areas (np.ndarray[N] float64): COCO's annotation ``area`` (the segmentation's area,
            which decides small/medium/large); NaN where the format has none (box area).
    """

    path: Path
    width: int
    height: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float64))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    difficult: np.ndarray = field(default_factory=lambda: np.zeros((0,), bool))
    annotation: Path | None = None
    sources: list[str] = field(default_factory=list)
    image_id: int | None = None
    areas: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float64))

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.boxes = np.asarray(self.boxes, np.float64).reshape(-1, 4)
        n = len(self.boxes)
        self.labels = np.asarray(self.labels, np.int64).reshape(n)
        self.difficult = (
            np.zeros(n, bool) if len(self.difficult) == 0 and n else np.asarray(self.difficult)
        ).astype(bool)
        if len(self.difficult) != n:
            raise ValueError(f"{self.path}: {len(self.difficult)} difficult flags for {n} boxes")
        self.areas = np.asarray(self.areas, np.float64).reshape(-1)
        if len(self.areas) == 0:
            self.areas = np.full(n, np.nan)
        if len(self.areas) != n:
            raise ValueError(f"{self.path}: {len(self.areas)} areas for {n} boxes")
        if not self.sources:
            self.sources = [f"box {i}" for i in range(n)]
        if len(self.sources) != n:
            raise ValueError(f"{self.path}: {len(self.sources)} box sources for {n} boxes")

    def where(self, box: int | None = None) -> str:
        """The place to show a user: the annotation file (or image), then the box's source."""
        place = str(self.annotation or self.path)
        if box is None:
            return place
        source = self.sources[box]
        return f"{place}:{source[5:]}" if source.startswith("line ") else f"{place} {source}"

    def subset(self, keep: np.ndarray) -> ImageRecord:
        """A copy that keeps only the boxes selected by the boolean or index array ``keep``."""
        idx = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        return ImageRecord(
            path=self.path,
            width=self.width,
            height=self.height,
            boxes=self.boxes[idx],
            labels=self.labels[idx],
            difficult=self.difficult[idx],
            annotation=self.annotation,
            sources=[self.sources[i] for i in idx],
            image_id=self.image_id,
            areas=self.areas[idx],
        )


@dataclass
class DetectionData:
    """A whole dataset: records plus the class list.

    Attributes:
        records: one per image, in a stable order (file order for COCO, sorted file names
            for YOLO txt and VOC).
        class_names: index = class id used in ``ImageRecord.labels``.
        category_ids: per class, the id written to COCO JSON; COCO's own ids survive round
            trips through YOLO txt and VOC (kept in a ``categories.json`` beside the names).
            Defaults to ``1..C``.
        problems: what the reader could not parse (malformed lines, unknown classes,
            orphan label files). :func:`check_dataset` reports them with its own findings.
        root: the folder the dataset was read from, if any.
    """

    records: list[ImageRecord]
    class_names: list[str]
    category_ids: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    root: Path | None = None

    def __post_init__(self) -> None:
        self.class_names = list(self.class_names)
        if not self.category_ids:
            self.category_ids = list(range(1, len(self.class_names) + 1))
        if len(self.category_ids) != len(self.class_names):
            raise ValueError(
                f"{len(self.category_ids)} category ids for {len(self.class_names)} class names"
            )
        if len(set(self.category_ids)) != len(self.category_ids):
            raise ValueError(f"category ids are not unique: {self.category_ids}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_boxes(self) -> int:
        return sum(len(r.boxes) for r in self.records)

    def default_category_ids(self) -> bool:
        """Whether the category ids are the plain ``1..C`` that every format implies."""
        return self.category_ids == list(range(1, len(self.class_names) + 1))
