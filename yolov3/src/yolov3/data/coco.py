"""COCO instances JSON + an images folder.

``bbox`` is ``[x, y, w, h]`` in float pixels. ``iscrowd`` maps to the record's
``difficult`` flag (both mean "ignored by evaluation"). Category ids need not be contiguous:
class index i is the i-th category in file order, and ``DetectionData.category_ids[i]``
keeps its id. Image ids and file order are kept too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from yolov3.boxes import xywh_to_xyxy_np, xyxy_to_xywh_np
from yolov3.data.layout import place_images, require_known_labels
from yolov3.data.records import DatasetError, DetectionData, ImageRecord, Problem


def find_annotation_file(path: Path, split: str | None) -> Path:
    """The instances JSON: ``path`` itself, or ``path/annotations/instances_<split>.json``."""
    if path.is_file():
        return path
    folder = path / "annotations" if (path / "annotations").is_dir() else path
    if split is not None:
        for name in (f"instances_{split}.json", f"{split}.json"):
            if (folder / name).is_file():
                return folder / name
        raise DatasetError(f"{folder}: no instances_{split}.json")
    found = sorted(folder.glob("*.json"))
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise DatasetError(f"{folder}: expected one COCO JSON, found {listed}; choose a split")
    return found[0]


def find_images_dir(json_path: Path, split: str | None) -> Path:
    """Where ``file_name`` is relative to: the first of ``images/<split>``, ``<split>``,
    ``images``, next to the JSON (looking from the JSON's folder and the one above)."""
    bases = [json_path.parent]
    if json_path.parent.name == "annotations":
        bases.insert(0, json_path.parent.parent)
    if split is None and json_path.stem.startswith("instances_"):
        split = json_path.stem[len("instances_") :]
    for base in bases:
        for sub in ([f"images/{split}", split] if split else []) + ["images", "."]:
            if (base / sub).is_dir() and sub != ".":
                return base / sub
    return bases[0]


def _load_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from err
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: expected a COCO object with images/annotations/categories")
    missing = [
        k for k in ("images", "annotations", "categories") if not isinstance(doc.get(k), list)
    ]
    if missing:
        raise DatasetError(f"{path}: missing or non-list keys {missing}")
    return doc


def _records(doc: dict[str, Any], path: Path, images_dir: Path) -> dict[int, ImageRecord]:
    records: dict[int, ImageRecord] = {}
    for i, image in enumerate(doc["images"]):
        try:
            image_id = int(image["id"])
            record = ImageRecord(
                images_dir / str(image["file_name"]),
                int(image.get("width") or 0),
                int(image.get("height") or 0),
                annotation=path,
                image_id=image_id,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DatasetError(
                f"{path}: images[{i}] needs id, file_name, width, height ({err})"
            ) from err
        if image_id in records:
            raise DatasetError(f"{path}: image id {image_id} appears twice")
        records[image_id] = record
    return records


Found = dict[int, list[tuple[list[float], int, bool, str, float]]]


def _annotations(
    annotations: list[Any],
    json_path: Path,
    records: dict[int, ImageRecord],
    index: dict[int, int],
    problems: list[Problem],
) -> Found:
    """Per image id, ``(xyxy, label, iscrowd, source, area)`` of its annotations (area NaN
    when the annotation has none); what cannot be used is reported in ``problems``."""
    found: Found = {i: [] for i in records}
    for i, ann in enumerate(annotations):
        ann_id = ann.get("id", f"#{i}") if isinstance(ann, dict) else f"#{i}"
        where = f"{json_path} annotation {ann_id}"
        try:
            x, y, w, h = (float(v) for v in ann["bbox"])
            image_id, category = int(ann["image_id"]), int(ann["category_id"])
        except (KeyError, TypeError, ValueError) as err:
            problems.append(
                Problem("malformed", where, f"needs image_id, category_id, bbox [x,y,w,h] ({err})")
            )
            continue
        if image_id not in records:
            problems.append(Problem("malformed", where, f"image_id {image_id} is not an image"))
            continue
        source = f"annotation {ann_id} ({records[image_id].path.name})"
        if category not in index:
            problems.append(
                Problem(
                    "unknown_class",
                    f"{json_path} {source}",
                    f"category_id {category} is not one of the file's categories",
                )
            )
        label = index.get(category, -1)
        xyxy = xywh_to_xyxy_np([x, y, w, h])[0].tolist()
        found[image_id].append(
            (xyxy, label, bool(ann.get("iscrowd", 0)), source, _area(ann.get("area")))
        )
    return found


def _area(value: Any) -> float:
    """The annotation's ``area`` as a number (NaN when missing or not a number)."""
    try:
        area = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return area if np.isfinite(area) and area >= 0 else float("nan")


def read_coco(
    path: Path, split: str | None = None, images_dir: Path | None = None
) -> DetectionData:
    """Read COCO instances (``path`` is the JSON or a folder holding ``annotations/``)."""
    json_path = find_annotation_file(Path(path), split)
    doc = _load_json(json_path)
    images_dir = Path(images_dir) if images_dir else find_images_dir(json_path, split)
    try:
        cats = [(int(c["id"]), str(c["name"])) for c in doc["categories"]]
    except (KeyError, TypeError, ValueError) as err:
        raise DatasetError(f"{json_path}: every category needs an id and a name ({err})") from err
    index = {cid: i for i, (cid, _) in enumerate(cats)}
    records = _records(doc, json_path, images_dir)
    problems: list[Problem] = []
    found = _annotations(doc["annotations"], json_path, records, index, problems)
    out = []
    for image_id, record in records.items():
        anns = found[image_id]
        out.append(
            ImageRecord(
                record.path,
                record.width,
                record.height,
                np.array([a[0] for a in anns], np.float64),
                [a[1] for a in anns],
                [a[2] for a in anns],
                json_path,
                [a[3] for a in anns],
                image_id,
                np.array([a[4] for a in anns], np.float64),
            )
        )
    names, ids = [n for _, n in cats], [c for c, _ in cats]
    return DetectionData(out, names, ids, problems, json_path.parent)


def to_coco_dict(data: DetectionData, file_names: list[str] | None = None) -> dict[str, Any]:
    """The COCO instances dictionary for ``data`` (also what pycocotools' ``COCO`` accepts)."""
    require_known_labels(data, "COCO JSON")
    used = [r.image_id for r in data.records if r.image_id is not None]
    keep_ids = len(used) == len(data.records) and len(set(used)) == len(used)
    images, annotations = [], []
    for i, record in enumerate(data.records):
        image_id = record.image_id if keep_ids else i + 1
        name = file_names[i] if file_names else record.path.name
        images.append(
            {"id": image_id, "file_name": name, "width": record.width, "height": record.height}
        )
        xywh = xyxy_to_xywh_np(record.boxes)
        rows = zip(xywh, record.labels, record.difficult, record.areas, strict=True)
        for box, label, diff, area in rows:
            w, h = float(box[2]), float(box[3])
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": data.category_ids[label],
                    "bbox": [float(box[0]), float(box[1]), w, h],
                    "area": float(area) if np.isfinite(area) else w * h,
                    "iscrowd": int(diff),
                    "segmentation": [],
                }
            )
    categories = [
        {"id": cid, "name": name, "supercategory": ""}
        for cid, name in zip(data.category_ids, data.class_names, strict=True)
    ]
    return {
        "info": {"description": "written by yolov3 data convert"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def write_coco(
    data: DetectionData, out: Path, split: str | None = None, images: str = "copy"
) -> Path:
    """Write ``out/annotations/instances[_<split>].json`` and ``out/images[/<split>]/``."""
    out = Path(out)
    doc = to_coco_dict(data)
    placed = place_images(data.records, out / "images" / (split or ""), images)
    for entry, record in zip(doc["images"], data.records, strict=True):
        entry["file_name"] = placed[record.path].name
    json_path = out / "annotations" / (f"instances_{split}.json" if split else "instances.json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc), encoding="utf-8")
    return json_path
