"""COCO JSON export of ground truth and detections, and a pycocotools cross-check."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from yolov3.boxes import xyxy_to_xywh_np
from yolov3.evaluate.matching import _to_numpy


def _xywh(boxes: object) -> np.ndarray:
    """xyxy -> COCO xywh in float64, the same arithmetic as the evaluator's tables."""
    return xyxy_to_xywh_np(_to_numpy(boxes, np.float64).reshape(-1, 4))


def _ids(given: Sequence[int] | None, n: int) -> list[int]:
    if given is None:
        return list(range(n))
    if len(given) != n:
        raise ValueError(f"{len(given)} ids for {n} items")
    return [int(i) for i in given]


def to_coco_ground_truth(
    ground_truths: Sequence[dict],
    num_classes: int,
    class_names: Sequence[str] | None = None,
    image_ids: Sequence[int] | None = None,
    category_ids: Sequence[int] | None = None,
    image_sizes: Sequence[tuple[int, int]] | None = None,
    file_names: Sequence[str] | None = None,
) -> dict:
    """A COCO instances dict (``images``, ``annotations``, ``categories``).

    Image ids default to the list index and category ids to the class index. Areas are the
    truths' ``area`` where given (COCO's annotation area), else box areas; ``difficult``
    truths become ``iscrowd`` 1.

    Args:
        image_sizes: ``(height, width)`` per image, written when given.
    """
    img_ids, cat_ids = _ids(image_ids, len(ground_truths)), _ids(category_ids, num_classes)
    names = list(class_names) if class_names is not None else [str(k) for k in range(num_classes)]
    images, annotations = [], []
    for i, item in enumerate(ground_truths):
        image: dict = {"id": img_ids[i]}
        if image_sizes is not None:
            image["height"], image["width"] = (int(v) for v in image_sizes[i])
        if file_names is not None:
            image["file_name"] = str(file_names[i])
        images.append(image)
        labels = _to_numpy(item["labels"], np.int64).reshape(-1)
        difficult = _to_numpy(item.get("difficult", np.zeros(len(labels))), bool).reshape(-1)
        given = item.get("area")
        areas = np.full(len(labels), np.nan) if given is None else _to_numpy(given, np.float64)
        rows = zip(_xywh(item["boxes"]), labels, difficult, areas.reshape(-1), strict=True)
        for box, label, crowd, area in rows:
            annotations.append(
                {
                    "id": len(annotations) + 1,  # pycocotools treats id 0 as "unmatched"
                    "image_id": img_ids[i],
                    "category_id": cat_ids[int(label)],
                    "bbox": box.tolist(),
                    "area": float(area) if np.isfinite(area) else float(box[2] * box[3]),
                    "iscrowd": int(crowd),
                }
            )
    categories = [{"id": cat_ids[k], "name": names[k]} for k in range(num_classes)]
    return {"images": images, "annotations": annotations, "categories": categories}


def to_coco_results(
    predictions: Sequence[dict],
    image_ids: Sequence[int] | None = None,
    category_ids: Sequence[int] | None = None,
) -> list[dict]:
    """Detections in COCO's results format: ``image_id, category_id, bbox (xywh), score``."""
    img_ids = _ids(image_ids, len(predictions))
    results = []
    for i, pred in enumerate(predictions):
        labels = _to_numpy(pred["labels"], np.int64).reshape(-1)
        scores = _to_numpy(pred["scores"], np.float64).reshape(-1)
        for box, label, score in zip(_xywh(pred["boxes"]), labels, scores, strict=True):
            category = int(label) if category_ids is None else int(category_ids[int(label)])
            results.append(
                {
                    "image_id": img_ids[i],
                    "category_id": category,
                    "bbox": box.tolist(),
                    "score": float(score),
                }
            )
    return results


def write_json(data: object, path: str | Path) -> Path:
    """Write ``data`` as JSON, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def pycocotools_stats(
    ground_truth: dict, results: list[dict], image_ids: Sequence[int] | None = None
) -> np.ndarray:
    """``COCOeval(...).stats`` (12 numbers) for a ground-truth dict and results list.

    ``image_ids`` limits the evaluation to those images (a dataset's original JSON may list
    images that were not evaluated). pycocotools cannot load an empty results list; with no
    detection every defined AP and AR is 0, which is returned directly.
    """
    # lazy: pycocotools only for the optional cross-check
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = json.loads(json.dumps(ground_truth))
        coco_gt.createIndex()
        if not results:
            coco_dt = COCO()
            coco_dt.dataset = {
                "images": ground_truth["images"],
                "annotations": [],
                "categories": ground_truth["categories"],
            }
            coco_dt.createIndex()
        else:
            coco_dt = coco_gt.loadRes(json.loads(json.dumps(results)))
        evaluator = COCOeval(coco_gt, coco_dt, "bbox")
        if image_ids is not None:
            evaluator.params.imgIds = sorted(int(i) for i in image_ids)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats, dtype=np.float64)


def evaluate_with_pycocotools(
    predictions: Sequence[dict], ground_truths: Sequence[dict], num_classes: int
) -> np.ndarray:
    """Run pycocotools on the same per-image dicts that ``evaluate_detections`` takes."""
    ground_truth = to_coco_ground_truth(ground_truths, num_classes)
    return pycocotools_stats(ground_truth, to_coco_results(predictions))
