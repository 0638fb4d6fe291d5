"""Annotated images in, training batches out.

- Formats: :func:`read_dataset` / :func:`write_dataset` for YOLO txt, Pascal VOC XML and
  COCO JSON, all into one in-memory :class:`DetectionData` of :class:`ImageRecord`.
- Checks: :func:`check_dataset` (a :class:`Report`), :func:`ensure_valid` (raises
  :class:`DatasetError`), :func:`ready_for_training` (checked, duplicates dropped),
  :func:`fix_dataset` (a cleaned copy).
- Splits: :func:`split_dataset` (stratified by class), :func:`write_splits` (the lists where
  each format's reader looks), :func:`read_holdout` (a validation part held out in memory).
- Training input: :func:`letterbox`, :class:`DetectionDataset`, :func:`collate` and
  :func:`build_loader` (the loss's targets are :func:`yolov3.train.build_targets`).
"""

from yolov3.data.check import (
    Report,
    check_dataset,
    ensure_valid,
    fix_dataset,
    ready_for_training,
)
from yolov3.data.dataset import DetectionDataset, ScaleBatchSampler, build_loader, collate
from yolov3.data.formats import FORMATS, detect_format, read_dataset, write_dataset
from yolov3.data.letterbox import Letterbox, letterbox, load_image
from yolov3.data.records import DatasetError, DetectionData, ImageRecord, Problem
from yolov3.data.split import read_holdout, split_dataset, split_table
from yolov3.data.split_lists import write_splits
from yolov3.data.transforms import Augmentation

__all__ = [
    "FORMATS",
    "Augmentation",
    "DatasetError",
    "DetectionData",
    "DetectionDataset",
    "ImageRecord",
    "Letterbox",
    "Problem",
    "Report",
    "ScaleBatchSampler",
    "build_loader",
    "check_dataset",
    "collate",
    "detect_format",
    "ensure_valid",
    "fix_dataset",
    "letterbox",
    "load_image",
    "read_dataset",
    "read_holdout",
    "ready_for_training",
    "split_dataset",
    "split_table",
    "write_dataset",
    "write_splits",
]
