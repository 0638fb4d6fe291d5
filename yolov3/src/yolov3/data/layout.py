"""Files around the annotations: class-name files, category sidecars, image files."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from yolov3.data.records import DatasetError, DetectionData, ImageRecord

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
NAMES_FILES = ("names.txt", "classes.txt", "labels.txt", "obj.names", "classes.names")
CATEGORIES_FILE = "categories.json"
IMAGE_MODES = ("copy", "link")


def read_names(path: Path) -> list[str]:
    """Class names, one per line, blank lines ignored; index = class id."""
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n]
    if not names:
        raise DatasetError(f"{path}: no class names (expected one name per line)")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DatasetError(f"{path}: class names appear more than once: {', '.join(dupes)}")
    return names


def find_names_file(*folders: Path) -> Path | None:
    """The class-name file of the first of ``folders`` that has one: ``names.txt``,
    ``classes.txt``, ... or a single ``*.names``.

    Raises:
        DatasetError: a folder holds several ``*.names`` files and none of the usual names,
            so which one is meant cannot be told.
    """
    for folder in folders:
        for name in NAMES_FILES:
            if (folder / name).is_file():
                return folder / name
        found = sorted(folder.glob("*.names")) if folder.is_dir() else []
        if len(found) > 1:
            raise DatasetError(
                f"{folder}: several class-name files ({', '.join(p.name for p in found)}); "
                "choose one with --names"
            )
        if found:
            return found[0]
    return None


def read_category_ids(folder: Path, names: list[str]) -> list[int]:
    """COCO category ids kept beside a names file by :func:`write_names`, else ``1..C``."""
    path = folder / CATEGORIES_FILE
    if not path.is_file():
        return []
    try:
        cats = json.loads(path.read_text(encoding="utf-8"))
        ids = {str(c["name"]): int(c["id"]) for c in cats}
    except (ValueError, KeyError, TypeError) as err:
        raise DatasetError(
            f'{path}: expected a JSON list of {{"id": int, "name": str}} ({err})'
        ) from err
    missing = [n for n in names if n not in ids]
    if missing:
        raise DatasetError(f"{path}: no category id for classes {missing}")
    return [ids[n] for n in names]


def read_categories(path: Path, names: list[str]) -> list[int]:
    """COCO category ids of ``names`` from a ``categories.json`` (a list of ``{"id", "name"}``)
    or a COCO instances JSON (its ``categories``), matched by name.

    Raises:
        DatasetError: the file is neither, or lacks one of ``names``.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        cats = doc["categories"] if isinstance(doc, dict) else doc
        ids = {str(c["name"]): int(c["id"]) for c in cats}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise DatasetError(
            f'{path}: expected a categories.json (a JSON list of {{"id": int, "name": str}}) '
            f"or a COCO instances JSON with categories ({type(err).__name__}: {err})"
        ) from None
    missing = [n for n in names if n not in ids]
    if missing:
        raise DatasetError(f"{path}: no category for the model's classes {missing}")
    return [ids[n] for n in names]


def write_names(data: DetectionData, folder: Path, filename: str) -> None:
    """Write the class names, and ``categories.json`` when the ids are not ``1..C``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_text("".join(f"{n}\n" for n in data.class_names), "utf-8")
    if not data.default_category_ids():
        cats = [
            {"id": i, "name": n} for i, n in zip(data.category_ids, data.class_names, strict=True)
        ]
        (folder / CATEGORIES_FILE).write_text(json.dumps(cats, indent=1) + "\n", "utf-8")


# EXIF orientations (tag 0x0112) that turn the picture by 90 or 270 degrees.
TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)
ORIENTATION_TEXT = {
    2: "mirrored",
    3: "rotated 180°",
    4: "flipped upside down",
    5: "mirrored and rotated 90° counter-clockwise",
    6: "rotated 90° clockwise",
    7: "mirrored and rotated 90° clockwise",
    8: "rotated 90° counter-clockwise",
}


def exif_orientation(path: Path) -> int:
    """The EXIF orientation tag (1 = upright, 2..8 = turned or mirrored); 1 when absent."""
    try:
        with Image.open(path) as img:
            value = img.getexif().get(0x0112, 1)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def image_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` as the image is shown, i.e. after its EXIF orientation (as
    :func:`yolov3.data.load_image` decodes it), from the header without decoding; None if
    missing or unreadable."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None
    return (height, width) if orientation in TRANSPOSED_ORIENTATIONS else (width, height)


def decode_fully(path: Path) -> str | None:
    """None when every byte of the image decodes, else why not (truncated, corrupt)."""
    try:
        with Image.open(path) as img:
            img.load()  # raises on truncated data, unlike OpenCV, which only warns
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        return str(exc) or type(exc).__name__
    return None


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively), sorted."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )


def place_images(
    records: Iterable[ImageRecord], folder: Path, mode: str = "copy"
) -> dict[Path, Path]:
    """Copy (or symlink) each record's image into ``folder``; returns source -> destination.

    Raises:
        DatasetError: two images share a file name, or an image is missing.
    """
    if mode not in IMAGE_MODES:
        raise ValueError(f"images mode must be one of {IMAGE_MODES}, got {mode!r}")
    folder.mkdir(parents=True, exist_ok=True)
    placed: dict[Path, Path] = {}
    taken: dict[str, Path] = {}
    for record in records:
        name = record.path.name
        if name in taken and taken[name] != record.path:
            raise DatasetError(
                f"{record.path}: file name also used by {taken[name]}; output formats keep "
                "one flat image folder, so rename one of them"
            )
        taken[name] = record.path
        dst = folder / name
        if not record.path.is_file():
            raise DatasetError(f"{record.path}: image file not found (run `yolov3 data check`)")
        if dst.exists() and dst.samefile(record.path):
            raise DatasetError(f"{dst}: refusing to replace a source image with itself")
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        if mode == "link":
            os.symlink(record.path.resolve(), dst)
        else:
            shutil.copy2(record.path, dst)
        placed[record.path] = dst
    return placed


def require_known_labels(data: DetectionData, fmt: str) -> None:
    """Writers cannot express an unknown class; refuse with every place that has one."""
    bad = [
        record.where(i)
        for record in data.records
        for i, label in enumerate(record.labels)
        if not 0 <= label < data.num_classes
    ]
    if bad:
        raise DatasetError(
            f"cannot write {fmt}: {len(bad)} boxes have a class outside the {data.num_classes} "
            "known classes (clean with `yolov3 data check --fix`):\n  " + "\n  ".join(bad[:50])
        )
