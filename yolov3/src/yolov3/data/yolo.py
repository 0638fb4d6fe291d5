"""YOLO txt: ``images/[split/]x.jpg``, ``labels/[split/]x.txt`` and a names file.

Each label line is ``class cx cy w h`` with the box centre and size normalised to 0..1 by
the image size. An image without a label file, or with an empty one, has no objects.
YOLO txt has no difficult flag: difficult boxes are written as ordinary boxes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from yolov3.boxes import normalized_cxcywh_to_xyxy_np, xyxy_to_normalized_cxcywh_np
from yolov3.data.layout import (
    find_names_file,
    image_size,
    list_images,
    place_images,
    read_category_ids,
    read_names,
    require_known_labels,
    write_names,
)
from yolov3.data.records import DatasetError, DetectionData, ImageRecord, Problem


def _split_dirs(root: Path, split: str | None) -> tuple[Path, Path]:
    images, labels = root / "images", root / "labels"
    if not images.is_dir():
        raise DatasetError(f"{root}: no images/ folder (YOLO txt layout: images/ + labels/)")
    if split is not None:
        images, labels = images / split, labels / split
        if not images.is_dir():
            splits = sorted(p.name for p in (root / "images").iterdir() if p.is_dir())
            raise DatasetError(f"{images}: no such split; available: {', '.join(splits)}")
    elif not any(p.is_file() for p in images.iterdir()):
        splits = sorted(p.name for p in images.iterdir() if p.is_dir())
        if len(splits) == 1:  # one split: nothing to choose
            return images / splits[0], labels / splits[0]
        if splits:
            raise DatasetError(
                f"{images} holds splits {', '.join(splits)}; choose one (split=... / --split)"
            )
    return images, labels


def parse_label_file(
    path: Path, width: int, height: int, problems: list[Problem]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Boxes (xyxy pixels), class ids and line sources of one label file.

    Malformed lines are skipped and reported in ``problems`` with their line number.
    """
    boxes, labels, sources = [], [], []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{number}"
        if len(fields) != 5:
            problems.append(
                Problem(
                    "malformed",
                    where,
                    f"expected 5 values 'class cx cy w h', got {len(fields)}: {line.strip()!r}",
                )
            )
            continue
        try:
            cls = int(fields[0])
            cx, cy, w, h = (float(v) for v in fields[1:])
        except ValueError:
            problems.append(
                Problem(
                    "malformed",
                    where,
                    f"expected an integer class and 4 numbers, got {line.strip()!r}",
                )
            )
            continue
        if not all(np.isfinite([cx, cy, w, h])):
            problems.append(Problem("malformed", where, f"non-finite value in {line.strip()!r}"))
            continue
        boxes.append([cx, cy, w, h])
        labels.append(cls)
        sources.append(f"line {number}")
    xyxy = normalized_cxcywh_to_xyxy_np(np.asarray(boxes, np.float64), width, height)
    return xyxy, np.asarray(labels, np.int64), sources


def label_path(image: Path) -> Path:
    """The label file of an image named in a list file: the last ``images`` folder of its
    path becomes ``labels`` (Darknet's and Ultralytics' rule), else the file beside it."""
    parts = image.parts
    where = [k for k, part in enumerate(parts) if part == "images"]
    if not where:
        return image.with_suffix(".txt")
    k = where[-1]
    return Path(*parts[:k], "labels", *parts[k + 1 :]).with_suffix(".txt")


def _listed_images(root: Path, split: str | None) -> list[Path] | None:
    """The images ``root/<split>.txt`` names (relative to ``root`` or absolute), when there is
    such a list and no ``images/<split>/`` folder; else None."""
    if split is None or (root / "images" / split).is_dir():
        return None
    listing = root / f"{split}.txt"
    if not listing.is_file():
        return None
    lines = [line.strip() for line in listing.read_text(encoding="utf-8").splitlines()]
    return [root / line for line in lines if line and not line.startswith("#")]


def _class_names(root: Path, names: list[str] | Path | None) -> tuple[list[str], list[int]]:
    if names is not None and not isinstance(names, Path | str):
        return list(names), []
    names_path = Path(names) if names is not None else find_names_file(root, root.parent)
    if names_path is None:
        raise DatasetError(
            f"{root}: no class names file (looked for names.txt, classes.txt, *.names); "
            "pass one with --names"
        )
    class_names = read_names(names_path)
    return class_names, read_category_ids(names_path.parent, class_names)


def read_yolo(
    root: Path, split: str | None = None, names: list[str] | Path | None = None
) -> DetectionData:
    """Read a YOLO txt dataset.

    Args:
        root: folder holding ``images/`` and ``labels/``.
        split: sub-folder of both (``train2017``), or a list file ``root/<split>.txt`` of
            image paths (as ``yolov3 data split`` writes); required when ``images/`` has only
            splits.
        names: class names, or a names file; default: ``names.txt``/``classes.txt``/``*.names``
            in ``root`` (or its parent).
    """
    root = Path(root)
    images = _listed_images(root, split)
    labels_dir = None
    if images is None:
        images_dir, labels_dir = _split_dirs(root, split)
        images = list_images(images_dir)
    class_names, category_ids = _class_names(root, names)
    problems: list[Problem] = []
    records, known = [], set()
    for image in images:
        rel = None if labels_dir is None else image.relative_to(images_dir)
        label = label_path(image) if rel is None else labels_dir / rel.with_suffix(".txt")
        known.add(label)
        size = image_size(image)
        width, height = size if size else (0, 0)
        record = ImageRecord(image, width, height, annotation=label if label.is_file() else None)
        if record.annotation is not None:
            boxes, labels, sources = parse_label_file(label, width, height, problems)
            record = ImageRecord(image, width, height, boxes, labels, [], label, sources)
        records.append(record)
    if labels_dir is not None and labels_dir.is_dir():
        for orphan in sorted(set(labels_dir.rglob("*.txt")) - known):
            problems.append(
                Problem("orphan_label", str(orphan), "label file has no image", "warning")
            )
    return DetectionData(records, class_names, category_ids, problems, root)


def write_yolo(
    data: DetectionData, out: Path, split: str | None = None, images: str = "copy"
) -> None:
    """Write ``out/images[/split]``, ``out/labels[/split]`` and ``out/names.txt``."""
    require_known_labels(data, "YOLO txt")
    out = Path(out)
    images_dir = out / "images" / (split or "")
    labels_dir = out / "labels" / (split or "")
    labels_dir.mkdir(parents=True, exist_ok=True)
    placed = place_images(data.records, images_dir, images)
    write_names(data, out, "names.txt")
    for record in data.records:
        if len(record.boxes) and (record.width <= 0 or record.height <= 0):
            raise DatasetError(f"{record.where()}: image size unknown, cannot normalise boxes")
        lines = format_label_lines(record.boxes, record.labels, record.width, record.height)
        label = labels_dir / placed[record.path].with_suffix(".txt").name
        label.write_text("".join(lines), encoding="utf-8")


def format_label_lines(
    boxes: np.ndarray,
    labels: np.ndarray,
    width: int,
    height: int,
    scores: np.ndarray | None = None,
) -> list[str]:
    """YOLO txt lines ``class cx cy w h [score]\\n``, normalised by the image size.

    Args:
        boxes (np.ndarray[N, 4]): xyxy absolute pixels.
        labels (np.ndarray[N]): class ids.
        scores (np.ndarray[N]): appended to each line when given (detections).
    """
    lines = []
    cxcywh = xyxy_to_normalized_cxcywh_np(boxes, width, height)
    for i, (cls, (cx, cy, w, h)) in enumerate(zip(labels, cxcywh, strict=True)):
        score = "" if scores is None else f" {float(scores[i]):.5f}"
        lines.append(f"{int(cls)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}{score}\n")
    return lines
