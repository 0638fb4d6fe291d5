"""Find everything wrong with a dataset, say where, and write a cleaned copy on request.

Errors (training refuses the dataset): missing or unreadable images, image sizes that
disagree with the annotation, boxes outside the image (beyond ``BOUNDS_TOLERANCE``),
degenerate boxes (narrower or shorter than ``MIN_BOX_SIDE`` pixel), unknown classes and lines
or objects that cannot be parsed. Warnings: duplicate boxes (same class, IoU >=
``DUPLICATE_IOU``; training drops them, see :func:`ready_for_training`), label files without
an image, class names that look like one class spelt two ways. Counted only: empty label
files and images without a label file (both mean "no objects", which is legitimate).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torchvision.ops import box_iou
from tqdm import tqdm

from yolov3.data.layout import ORIENTATION_TEXT, decode_fully, exif_orientation, image_size
from yolov3.data.records import DatasetError, DetectionData, ImageRecord, Problem

BOUNDS_TOLERANCE = 0.5  # pixels; absorbs float rounding of normalised coordinates
MIN_BOX_SIDE = 1.0  # pixels; thinner boxes carry no learnable signal
DUPLICATE_IOU = 0.98


@dataclass
class Report:
    """What :func:`check_dataset` found.

    Attributes:
        problems: every problem, in dataset order.
        images, boxes: how many were checked.
        empty_label_files: label files with no boxes (no objects; not an error).
        unlabelled_images: images without any label file (no objects; not an error).
    """

    problems: list[Problem] = field(default_factory=list)
    images: int = 0
    boxes: int = 0
    empty_label_files: int = 0
    unlabelled_images: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        kinds = Counter(p.kind for p in self.problems)
        listed = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) or "none"
        return (
            f"{self.images} images, {self.boxes} boxes, {self.empty_label_files} empty label "
            f"files, {self.unlabelled_images} images without a label file; "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings ({listed})"
        )

    def format(self, errors_only: bool = False) -> str:
        """One line per problem (``file[:line]: message``), then the summary."""
        shown = self.errors if errors_only else self.problems
        lines = [f"{p.severity}: {p}" for p in shown]
        return "\n".join([*lines, self.summary()])


def _check_image(record: ImageRecord, deep: bool) -> tuple[list[Problem], tuple[int, int] | None]:
    # YOLO txt labels follow their image, so point at the image; VOC XML and COCO JSON name
    # the image themselves, so point at the annotation and name the image in the message.
    own_file = record.annotation is None or record.annotation.suffix == ".txt"
    where = str(record.path) if own_file else record.where()
    image = "image" if own_file else f"image {record.path}"
    if not record.path.is_file():
        return [Problem("missing_image", where, f"{image} not found")], None
    size = image_size(record.path)
    if size is not None and deep:
        broken = decode_fully(record.path)
        if broken is not None:
            message = f"{image} is truncated or corrupt ({broken})"
            return [Problem("unreadable_image", where, message)], None
    if size is None:
        return [Problem("unreadable_image", where, f"{image} cannot be decoded")], None
    found = []
    orientation = exif_orientation(record.path)
    if orientation != 1:
        message = (
            f"{image} carries EXIF orientation {orientation} ({ORIENTATION_TEXT[orientation]}): "
            f"it is read upright, {size[0]}x{size[1]}, and its boxes are taken in that orientation"
        )
        found.append(Problem("exif_rotation", where, message, "warning"))
    if (record.width, record.height) != size:
        message = (
            f"annotation says the image is {record.width}x{record.height} but "
            f"{record.path.name} is {size[0]}x{size[1]} (width x height)"
        )
        return [*found, Problem("size_mismatch", record.where(), message)], size
    return found, size


def _box_text(box: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in box) + ")"


def _check_boxes(record: ImageRecord, num_classes: int, reported: set[str]) -> list[Problem]:
    problems = []
    w, h = record.width, record.height
    for i, (box, label) in enumerate(zip(record.boxes, record.labels, strict=True)):
        where = record.where(i)
        if not 0 <= label < num_classes and where not in reported:
            problems.append(
                Problem("unknown_class", where, f"class {label} is not in 0..{num_classes - 1}")
            )
        x1, y1, x2, y2 = box
        if x2 - x1 < MIN_BOX_SIDE or y2 - y1 < MIN_BOX_SIDE:
            problems.append(
                Problem(
                    "degenerate",
                    where,
                    f"degenerate box {_box_text(box)}: width and height must be >= "
                    f"{MIN_BOX_SIDE:g} px",
                )
            )
        t = BOUNDS_TOLERANCE
        if x1 < -t or y1 < -t or x2 > w + t or y2 > h + t:
            problems.append(
                Problem(
                    "out_of_bounds",
                    where,
                    f"box {_box_text(box)} (xyxy px) leaves the {w}x{h} image",
                )
            )
    for i, j in _duplicates(record):
        message = f"duplicate of {record.sources[i]}"
        problems.append(Problem("duplicate", record.where(j), message, "warning"))
    return problems


def _duplicates(record: ImageRecord) -> list[tuple[int, int]]:
    """Pairs ``(first, later)`` of same-class boxes with IoU >= DUPLICATE_IOU."""
    if len(record.boxes) < 2:
        return []
    boxes = torch.from_numpy(record.boxes)
    iou = box_iou(boxes, boxes).numpy()
    same = record.labels[:, None] == record.labels[None, :]
    first, later = np.nonzero(np.triu((iou >= DUPLICATE_IOU) & same, k=1))
    seen: set[int] = set()
    pairs = []
    for i, j in zip(first.tolist(), later.tolist(), strict=True):
        if j not in seen and i not in seen:
            pairs.append((i, j))
            seen.add(j)
    return pairs


def check_dataset(data: DetectionData, deep: bool = False, progress: bool = False) -> Report:
    """Check every image and box of ``data``.

    Args:
        data: a dataset as read by :func:`read_dataset` (its reader problems are included).
        deep: decode every image instead of reading only its header (slower; finds
            truncated files).
        progress: show a progress bar.
    """
    report = Report(problems=list(data.problems), images=len(data.records))
    reported = {p.where for p in data.problems}
    for record in tqdm(data.records, desc="check", disable=not progress, unit="img"):
        report.boxes += len(record.boxes)
        if record.annotation is None:
            report.unlabelled_images += 1
        elif len(record.boxes) == 0 and record.annotation.suffix == ".txt":
            report.empty_label_files += 1
        image_problems, size = _check_image(record, deep)
        report.problems += image_problems
        if size is not None and record.width > 0:
            report.problems += _check_boxes(record, data.num_classes, reported)
    report.problems.sort(key=lambda p: _natural_key(p.where))
    return report


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that puts ``a.txt:2`` before ``a.txt:10``."""
    return [(1, int(t)) if t.isdigit() else (0, t) for t in re.split(r"(\d+)", text)]


def ensure_valid(data: DetectionData, deep: bool = False) -> Report:
    """Check ``data`` and raise if anything is an error (what training calls first).

    Raises:
        DatasetError: one line per error, ``file[:line]: message``, as ``yolov3 data check``.
    """
    report = check_dataset(data, deep=deep)
    if not report.ok:
        raise DatasetError(
            "the dataset has errors (run `yolov3 data check` for the full report, "
            "`--fix OUT` to write a cleaned copy):\n" + report.format(errors_only=True)
        )
    return report


def drop_duplicates(data: DetectionData) -> tuple[DetectionData, int, int]:
    """``data`` without duplicate boxes (same class, IoU >= ``DUPLICATE_IOU``; the first is
    kept), how many boxes were dropped and from how many images; ``data`` is not modified."""
    records, dropped, images = [], 0, 0
    for record in data.records:
        later = [j for _, j in _duplicates(record)]
        if later:
            dropped, images = dropped + len(later), images + 1
            record = record.subset(np.setdiff1d(np.arange(len(record.boxes)), later))
        records.append(record)
    ids = list(data.category_ids)
    cleaned = DetectionData(records, list(data.class_names), ids, list(data.problems), data.root)
    return cleaned, dropped, images


def ready_for_training(data: DetectionData, say: Callable[[str], object] = print) -> DetectionData:
    """What training reads: ``data`` checked, without its duplicate boxes.

    Tells ``say`` the classes taken from the annotations, names that look like one class
    spelt two ways, and, in one line for the whole dataset, how many duplicates were dropped.

    Raises:
        DatasetError: the dataset has errors, one line per error (as :func:`ensure_valid`).
    """
    ensure_valid(data)
    for problem in data.problems:
        if problem.kind in ("inferred_names", "similar_names"):
            say(f"{problem.severity}: {problem}")
    cleaned, dropped, images = drop_duplicates(data)
    if dropped:
        say(
            f"warning: {data.root}: dropped {dropped} duplicate boxes (same class, IoU >= "
            f"{DUPLICATE_IOU:g}) in {images} images; `yolov3 data check` lists them"
        )
    return cleaned


def _fix_record(record: ImageRecord, num_classes: int, actions: list[str]) -> ImageRecord | None:
    if not record.path.is_file() or (size := image_size(record.path)) is None:
        actions.append(f"{record.path}: dropped the image (missing or unreadable)")
        return None
    if (record.width, record.height) != size:
        actions.append(f"{record.where()}: size set to the image's {size[0]}x{size[1]}")
        record = record.subset(np.arange(len(record.boxes)))
        record.width, record.height = size
    clipped = record.boxes.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, record.width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, record.height)
    for i in np.flatnonzero(np.any(np.abs(clipped - record.boxes) > BOUNDS_TOLERANCE, axis=1)):
        actions.append(f"{record.where(i)}: clipped the box to the image")
    record = record.subset(np.arange(len(record.boxes)))
    record.boxes = clipped
    known = (record.labels >= 0) & (record.labels < num_classes)
    solid = (clipped[:, 2:] - clipped[:, :2]).min(axis=1) >= MIN_BOX_SIDE
    for i in np.flatnonzero(~known):
        actions.append(f"{record.where(i)}: dropped a box of unknown class {record.labels[i]}")
    for i in np.flatnonzero(known & ~solid):
        actions.append(f"{record.where(i)}: dropped a degenerate box")
    record = record.subset(known & solid)
    duplicates = [j for _, j in _duplicates(record)]
    for j in duplicates:
        actions.append(f"{record.where(j)}: dropped a duplicate box")
    return record.subset(np.setdiff1d(np.arange(len(record.boxes)), duplicates))


def fix_dataset(data: DetectionData) -> tuple[DetectionData, list[str]]:
    """A cleaned copy of ``data`` and what was changed; ``data`` itself is not modified.

    Drops images that are missing or unreadable, takes the real image size where the
    annotation disagrees, clips boxes to the image, then drops degenerate, unknown-class
    and duplicate boxes. Lines the reader could not parse are left out.
    """
    actions = [f"{p.where}: left out ({p.message})" for p in data.problems]
    records = []
    for record in data.records:
        fixed = _fix_record(record, data.num_classes, actions)
        if fixed is not None:
            records.append(fixed)
    # the same root: writing the copy over the source is refused like any other write there
    cleaned = DetectionData(records, list(data.class_names), list(data.category_ids), [], data.root)
    return cleaned, sorted(actions, key=_natural_key)
