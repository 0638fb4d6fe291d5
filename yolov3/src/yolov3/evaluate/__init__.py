"""Detection evaluation: COCO metrics (exactly as pycocotools), VOC AP, curves, plots and
exports, and :func:`predict_loader` (a model's detections on a validation loader)."""

from yolov3.evaluate.coco import EvalResult, evaluate_detections, ground_truths_from_records
from yolov3.evaluate.cocojson import (
    evaluate_with_pycocotools,
    pycocotools_stats,
    to_coco_ground_truth,
    to_coco_results,
    write_json,
)
from yolov3.evaluate.curves import F1Point, confusion_matrix
from yolov3.evaluate.loader import predict_loader
from yolov3.evaluate.voc import voc_ap

__all__ = [
    "EvalResult",
    "F1Point",
    "confusion_matrix",
    "evaluate_detections",
    "evaluate_with_pycocotools",
    "ground_truths_from_records",
    "predict_loader",
    "pycocotools_stats",
    "to_coco_ground_truth",
    "to_coco_results",
    "voc_ap",
    "write_json",
]
