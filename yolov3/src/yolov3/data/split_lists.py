"""Split lists on disk, where each format's reader finds them; images stay where they are.

- VOC: ``ImageSets/Main/<split>.txt``, one annotation id a line.
- YOLO txt: ``<split>.txt`` beside ``images/``, one image path a line, relative to that
  folder (``images/a.jpg``); labels follow the ``images/`` -> ``labels/`` rule, as Darknet
  and Ultralytics list files do.
- COCO: ``instances_<split>.json`` beside the source JSON, each a copy of the source with
  that split's images and their annotations (every other key kept).

With ``out``, the lists go to a new folder instead (for a read-only dataset), together with
links to the source's annotations, images and names, so that ``out`` reads as the dataset
with splits: ``yolov3 train --data OUT``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from yolov3.data.coco import find_annotation_file, find_images_dir
from yolov3.data.layout import CATEGORIES_FILE, find_names_file
from yolov3.data.records import DatasetError, DetectionData
from yolov3.data.split import SPLIT_NAMES, existing_split_files
from yolov3.data.voc import ANNOTATION_DIRS, IMAGE_DIRS, annotation_dir


def write_splits(
    data: DetectionData,
    parts: dict[str, list[int]],
    fmt: str,
    out: Path | None = None,
    force: bool = False,
    source_split: str | None = None,
) -> list[Path]:
    """Write the split lists of ``parts`` for the dataset ``data`` was read from.

    Args:
        data: the dataset, as read (its ``root`` is the source).
        parts: split name -> record indices (:func:`yolov3.data.split.split_dataset`).
        fmt: ``"voc"``, ``"yolo"`` or ``"coco"``.
        out: a folder for the lists and links to the source (default: the source itself).
        force: replace existing split lists (and remove a stale one of the three names).
        source_split: the split ``data`` was read from, which must not be replaced.

    Returns:
        The files written.

    Raises:
        DatasetError: lists exist already (without ``force``), a list would replace the
            split that was read, or ``out`` holds something else.
    """
    if data.root is None:
        raise DatasetError("the dataset was not read from a folder; nowhere to write splits")
    source = Path(data.root)
    if out is not None and out.resolve() == source.resolve():
        out = None
    if source_split in parts and out is None:
        raise DatasetError(
            f"--split {source_split} would be replaced by the new {source_split} list; "
            "name the source split differently or split the whole dataset"
        )
    writers = {"voc": _voc, "yolo": _yolo, "coco": _coco}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {tuple(writers)}")
    # the split that was read is never a stale list to remove
    others = [n for n in SPLIT_NAMES if n not in parts and (out is not None or n != source_split)]
    return writers[fmt](data, parts, others, source, out, force)


def _make_room(targets: list[Path], stale: list[Path], force: bool) -> None:
    """Refuse existing lists unless ``force``; with it, also drop stale lists of other names."""
    found = existing_split_files([*targets, *stale])
    if found and not force:
        raise DatasetError(
            f"{found[0]}: split list exists already ({len(found)} found); pass --force to "
            "replace the splits"
        )
    for path in existing_split_files(stale):
        path.unlink()


def _link(link: Path, target: Path, force: bool) -> None:
    """``link`` -> ``target``; an equal link is kept, anything else there is refused."""
    target = target.resolve()
    if link.is_symlink() and (link.resolve() == target or force):
        if link.resolve() == target:
            return
        link.unlink()
    elif link.exists():
        raise DatasetError(f"{link}: exists and is not a link to {target}; choose an empty --out")
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link, target_is_directory=target.is_dir())


def _link_names(source: Path, out: Path, force: bool) -> None:
    names = find_names_file(source, source.parent)
    if names is not None:
        _link(out / names.name, names, force)
        if (names.parent / CATEGORIES_FILE).is_file():
            _link(out / CATEGORIES_FILE, names.parent / CATEGORIES_FILE, force)


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _voc(data, parts, others, source: Path, out: Path | None, force: bool) -> list[Path]:
    base = out or source
    folder = base / "ImageSets" / "Main"
    targets = [folder / f"{name}.txt" for name in parts]
    stale = [folder / f"{name}.txt" for name in others]
    _make_room(targets, stale, force)
    if out is not None:
        ann = annotation_dir(source)
        images = next((source / n for n in IMAGE_DIRS if (source / n).is_dir()), source)
        _link(out / ANNOTATION_DIRS[0], ann, force)
        _link(out / IMAGE_DIRS[0], images, force)
        _link_names(source, out, force)
    written = []
    for name, indices in parts.items():
        ids = [_voc_id(data, i) for i in indices]
        written.append(_write_lines(folder / f"{name}.txt", ids))
    return written


def _voc_id(data: DetectionData, index: int) -> str:
    annotation = data.records[index].annotation
    assert annotation is not None  # every VOC record comes from its XML file
    return annotation.stem


def _yolo(data, parts, others, source: Path, out: Path | None, force: bool) -> list[Path]:
    base = out or source
    targets = [base / f"{name}.txt" for name in parts]
    stale = [base / f"{name}.txt" for name in others]
    clash = [base / "images" / name for name in SPLIT_NAMES if (base / "images" / name).is_dir()]
    if clash:
        raise DatasetError(f"{clash[0]}: the dataset has split folders already")
    _make_room(targets, stale, force)
    if out is not None:
        for folder in ("images", "labels"):
            if (source / folder).is_dir():
                _link(out / folder, source / folder, force)
        _link_names(source, out, force)
    written = []
    for name, indices in parts.items():
        paths = [data.records[i].path.relative_to(source).as_posix() for i in indices]
        written.append(_write_lines(base / f"{name}.txt", paths))
    return written


def _coco(data, parts, others, source: Path, out: Path | None, force: bool) -> list[Path]:
    json_path = next((r.annotation for r in data.records if r.annotation), None)
    json_path = json_path or find_annotation_file(source, None)
    folder = out / "annotations" if out is not None else json_path.parent
    targets = [folder / f"instances_{name}.json" for name in parts]
    stale = [folder / f"instances_{name}.json" for name in others]
    if any(t.resolve() == json_path.resolve() for t in [*targets, *stale]):
        raise DatasetError(f"{json_path}: the source would be replaced; write the splits to --out")
    _make_room(targets, stale, force)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    written = []
    for name, indices in parts.items():
        target = folder / f"instances_{name}.json"
        images_dir = find_images_dir(target, name).resolve()
        images, ids = [], set()
        for i in indices:
            entry = dict(doc["images"][i])
            entry["file_name"] = os.path.relpath(data.records[i].path.resolve(), images_dir)
            images.append(entry)
            ids.add(entry["id"])
        kept = [a for a in doc["annotations"] if a.get("image_id") in ids]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({**doc, "images": images, "annotations": kept}), "utf-8")
        written.append(target)
    return written
