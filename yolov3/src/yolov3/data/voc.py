"""Pascal VOC XML: ``Annotations/*.xml`` (or ``annotations/``) + ``JPEGImages/`` (or ``images/``).

LabelImg's layout, XML files beside the images (in ``images/`` or the folder itself), reads
the same way.

VOC stores 1-based, inclusive pixel indices. A box with ``xmin=1, xmax=10`` covers the
first ten pixel columns, i.e. ``x1=0, x2=10`` in the continuous ``xyxy`` coordinates used
everywhere else; the reader subtracts 1 from ``xmin``/``ymin`` and the writer adds it back.
Class order comes from a names file (``labels.txt``, ``classes.txt``, ...) when there is
one, else from the sorted set of names in the XML files (reported with their box counts, and
names that look like one class spelt two ways are warned about, see
:mod:`yolov3.data.class_names`); the writer always writes ``labels.txt`` so that order
survives a round trip.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np

from yolov3.data.class_names import inferred_names_problems
from yolov3.data.layout import (
    IMAGE_SUFFIXES,
    find_names_file,
    image_size,
    place_images,
    read_category_ids,
    read_names,
    require_known_labels,
    write_names,
)
from yolov3.data.records import DatasetError, DetectionData, ImageRecord, Problem

ANNOTATION_DIRS = ("Annotations", "annotations")
IMAGE_DIRS = ("JPEGImages", "images")
VOC_COORDS = ("xmin", "ymin", "xmax", "ymax")


def _first_dir(root: Path, names: tuple[str, ...]) -> Path | None:
    return next((root / n for n in names if (root / n).is_dir()), None)


def annotation_dir(root: Path) -> Path | None:
    """``Annotations/`` or ``annotations/``, else ``images/`` or ``root`` when they hold XML
    files (LabelImg saves them beside the images); None when there is none."""
    found = _first_dir(root, ANNOTATION_DIRS)
    if found is not None:
        return found
    return next((d for d in (root / "images", root) if d.is_dir() and any(d.glob("*.xml"))), None)


def _xml_files(root: Path, ann_dir: Path, split: str | None) -> list[Path]:
    if split is None:
        return sorted(ann_dir.glob("*.xml"))
    listing = root / "ImageSets" / "Main" / f"{split}.txt"
    if not listing.is_file():
        raise DatasetError(f"{listing}: split list not found (VOC splits live in ImageSets/Main)")
    ids = [line.split()[0] for line in listing.read_text().splitlines() if line.strip()]
    return [ann_dir / f"{i}.xml" for i in ids]


def _text(node: ET.Element, tag: str) -> str | None:
    found = node.find(tag)
    return found.text.strip() if found is not None and found.text else None


def _parse_object(obj: ET.Element) -> tuple[str, list[float], bool]:
    name = _text(obj, "name")
    if not name:
        raise ValueError("object has no <name>")
    box = obj.find("bndbox")
    if box is None:
        raise ValueError(f"object {name!r} has no <bndbox>")
    try:
        xmin, ymin, xmax, ymax = (float(_text(box, t) or "nan") for t in VOC_COORDS)
    except ValueError as err:
        raise ValueError(f"object {name!r}: <bndbox> values must be numbers ({err})") from None
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        raise ValueError(f"object {name!r}: <bndbox> needs xmin, ymin, xmax and ymax")
    difficult = (_text(obj, "difficult") or "0") not in ("0", "false", "False")
    return name, [xmin - 1, ymin - 1, xmax, ymax], difficult


def _find_image(images_dir: Path, filename: str | None, xml: Path) -> Path:
    if filename:
        candidate = images_dir / filename
        if candidate.is_file() or Path(filename).suffix:
            return candidate
    for suffix in IMAGE_SUFFIXES:
        candidate = images_dir / (xml.stem + suffix)
        if candidate.is_file():
            return candidate
    return images_dir / (filename or xml.stem + ".jpg")


def parse_xml(
    xml: Path, images_dir: Path, class_index: dict[str, int] | None, problems: list[Problem]
) -> tuple[ImageRecord, list[str]] | None:
    """One VOC XML file -> record (labels -1 until names are known) and its object names."""
    try:
        tree = ET.parse(xml)
    except ET.ParseError as err:
        line = err.position[0] if err.position else "?"
        problems.append(Problem("malformed", f"{xml}:{line}", f"not valid XML: {err}"))
        return None
    except OSError as err:
        problems.append(Problem("malformed", str(xml), f"cannot read annotation: {err}"))
        return None
    root = tree.getroot()
    path = _find_image(images_dir, _text(root, "filename"), xml)
    size = root.find("size")
    try:
        width = int(float(_text(size, "width") or 0)) if size is not None else 0
        height = int(float(_text(size, "height") or 0)) if size is not None else 0
    except ValueError:
        problems.append(Problem("malformed", str(xml), "<size> width/height are not numbers"))
        width = height = 0
    if width <= 0 or height <= 0:
        width, height = image_size(path) or (0, 0)
    boxes, names, difficult, sources = [], [], [], []
    for number, obj in enumerate(root.iter("object"), start=1):
        try:
            name, box, diff = _parse_object(obj)
        except ValueError as err:
            problems.append(Problem("malformed", f"{xml} object {number}", str(err)))
            continue
        if class_index is not None and name not in class_index:
            problems.append(
                Problem(
                    "unknown_class",
                    f"{xml} object {number}",
                    f"class {name!r} is not one of the {len(class_index)} declared classes",
                )
            )
        boxes.append(box)
        names.append(name)
        difficult.append(diff)
        sources.append(f"object {number}")
    labels = [-1] * len(names)
    record = ImageRecord(path, width, height, boxes, labels, difficult, xml, sources)
    return record, names


def read_voc(
    root: Path, split: str | None = None, names: list[str] | Path | None = None
) -> DetectionData:
    """Read a Pascal VOC dataset (see the module docstring for the layout)."""
    root = Path(root)
    ann_dir = annotation_dir(root)
    images_dir = _first_dir(root, IMAGE_DIRS) or root
    if ann_dir is None:
        raise DatasetError(f"{root}: no Annotations/ or annotations/ folder of VOC XML files")
    category_ids: list[int] = []
    if names is None or isinstance(names, Path | str):
        names_path = Path(names) if names is not None else find_names_file(root)
        class_names = read_names(names_path) if names_path else None
        if names_path and class_names:
            category_ids = read_category_ids(names_path.parent, class_names)
    else:
        class_names = list(names)
    index = {n: i for i, n in enumerate(class_names)} if class_names else None
    problems: list[Problem] = []
    parsed = []
    for xml in _xml_files(root, ann_dir, split):
        if not xml.is_file():
            problems.append(Problem("missing_annotation", str(xml), "annotation file not found"))
            continue
        result = parse_xml(xml, images_dir, index, problems)
        if result is not None:
            parsed.append(result)
    if class_names is None:
        # from every XML file, so that each split of one dataset gets the same classes
        every = parsed if split is None else _parse_all(ann_dir, images_dir)
        counts = Counter(n for _, obj_names in every for n in obj_names)
        class_names = sorted(counts)
        index = {n: i for i, n in enumerate(class_names)}
        problems += inferred_names_problems(str(ann_dir), counts)
    assert index is not None
    for record, obj_names in parsed:
        record.labels = np.array([index.get(n, -1) for n in obj_names], np.int64)
    return DetectionData([r for r, _ in parsed], class_names, category_ids, problems, root)


def _parse_all(ann_dir: Path, images_dir: Path) -> list[tuple[ImageRecord, list[str]]]:
    parsed = (parse_xml(xml, images_dir, None, []) for xml in sorted(ann_dir.glob("*.xml")))
    return [result for result in parsed if result is not None]


def _record_xml(record: ImageRecord, image_name: str, class_names: list[str]) -> ET.Element:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = image_name
    size = ET.SubElement(root, "size")
    for tag, value in (("width", record.width), ("height", record.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for box, label, diff in zip(record.boxes, record.labels, record.difficult, strict=True):
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = class_names[label]
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = str(int(diff))
        bndbox = ET.SubElement(obj, "bndbox")
        # Integer pixel format: round once, back to 1-based inclusive indices.
        values = (round(box[0]) + 1, round(box[1]) + 1, round(box[2]), round(box[3]))
        for tag, value in zip(VOC_COORDS, values, strict=True):
            ET.SubElement(bndbox, tag).text = str(value)
    ET.indent(root, space="\t")
    return root


def write_voc(
    data: DetectionData, out: Path, split: str | None = None, images: str = "copy"
) -> None:
    """Write ``out/Annotations/*.xml``, ``out/JPEGImages/`` and ``out/labels.txt``.

    With ``split``, also ``out/ImageSets/Main/<split>.txt`` listing the image ids.
    """
    require_known_labels(data, "VOC XML")
    out = Path(out)
    ann_dir = out / "Annotations"
    ann_dir.mkdir(parents=True, exist_ok=True)
    placed = place_images(data.records, out / "JPEGImages", images)
    write_names(data, out, "labels.txt")
    ids = []
    for record in data.records:
        image_name = placed[record.path].name
        xml = _record_xml(record, image_name, data.class_names)
        ET.ElementTree(xml).write(ann_dir / f"{Path(image_name).stem}.xml", encoding="unicode")
        ids.append(Path(image_name).stem)
    if split is not None:
        listing = out / "ImageSets" / "Main" / f"{split}.txt"
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
