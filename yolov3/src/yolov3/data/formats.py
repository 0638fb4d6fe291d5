"""Read and write any of the three formats by name, with format detection."""

from __future__ import annotations

from pathlib import Path

from yolov3.data.coco import read_coco, write_coco
from yolov3.data.records import DatasetError, DetectionData
from yolov3.data.voc import ANNOTATION_DIRS, read_voc, write_voc
from yolov3.data.yolo import read_yolo, write_yolo

FORMATS = ("yolo", "voc", "coco")


def detect_format(path: Path) -> str:
    """``"coco"`` for a JSON file or a folder with ``annotations/*.json``, ``"voc"`` for a
    folder of XML annotations (``Annotations/``, or beside the images), ``"yolo"`` for
    ``images/`` + ``labels/``."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() == ".json":
            return "coco"
        raise DatasetError(f"{path}: a file can only be a COCO JSON; give the dataset folder")
    if not path.is_dir():
        raise DatasetError(f"{path}: no such dataset folder")
    if any((path / "annotations").glob("*.json")):
        return "coco"
    for name in (*ANNOTATION_DIRS, "images", "."):
        if any((path / name).glob("*.xml")):
            return "voc"
    if (path / "labels").is_dir() or (path / "images").is_dir():
        return "yolo"
    raise DatasetError(
        f"{path}: cannot tell the format (expected images/ + labels/ for YOLO txt, "
        "Annotations/*.xml for VOC, or annotations/*.json for COCO); pass --format"
    )


def read_dataset(
    path: Path | str,
    fmt: str | None = None,
    split: str | None = None,
    names: list[str] | Path | None = None,
) -> DetectionData:
    """Read a dataset in any supported format.

    Args:
        path: the dataset folder (or a COCO JSON file).
        fmt: ``"yolo"``, ``"voc"`` or ``"coco"``; detected when None.
        split: a split name (``images/<split>`` for YOLO, ``ImageSets/Main/<split>.txt``
            for VOC, ``instances_<split>.json`` for COCO).
        names: class names or a names file (YOLO and VOC; COCO has its categories).

    Raises:
        DatasetError: the layout is not recognised or a file cannot be parsed at all.
            Problems in single lines or objects are collected in ``DetectionData.problems``
            instead, for :func:`check_dataset` to report with everything else.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "yolo":
        return read_yolo(path, split, names)
    if fmt == "voc":
        return read_voc(path, split, names)
    if fmt == "coco":
        return read_coco(path, split)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def write_dataset(
    data: DetectionData,
    out: Path | str,
    fmt: str,
    split: str | None = None,
    images: str = "copy",
) -> None:
    """Write ``data`` to the folder ``out`` in ``fmt``, copying (or, with ``images="link"``,
    symlinking) the images into that format's layout."""
    out = Path(out)
    if data.root is not None and out.resolve() == Path(data.root).resolve():
        raise DatasetError(f"{out}: refusing to write over the source dataset; choose a new folder")
    writers = {"yolo": write_yolo, "voc": write_voc, "coco": write_coco}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    writers[fmt](data, out, split, images)
