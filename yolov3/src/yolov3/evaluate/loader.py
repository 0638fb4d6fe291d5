"""Detections and ground truths of a validation loader, ready for the evaluator."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from yolov3.config import ModelConfig
from yolov3.model import unwrap
from yolov3.predict import Detector, decode, postprocess


@torch.no_grad()
def predict_loader(
    model: nn.Module,
    loader: Any,
    device: torch.device,
    conf_thresh: float = 0.001,
    iou_thresh: float = 0.6,
    progress: bool = False,
) -> tuple[list[dict], list[dict]]:
    """Detections and ground truths of a (non-augmented) loader, in original image pixels.

    Ground truths come from the dataset's records, so difficult flags are kept.
    """
    model.eval()
    config: ModelConfig = unwrap(model).config
    dataset = loader.dataset
    predictions, truths = [], []
    for images, _, metas in tqdm(loader, desc="validate", leave=False, disable=not progress):
        outputs = model(images.to(device))
        dets = postprocess(decode(outputs, config), conf_thresh=conf_thresh, iou_thresh=iou_thresh)
        for det, meta in zip(dets, metas, strict=True):
            h, w = meta["orig_size"]
            to_original = meta["letterbox"].to_original
            predictions.append(Detector.to_image_pixels(det, to_original, w, h))
            record = dataset.data.records[meta["index"]]
            keep = (record.labels >= 0) & (record.labels < config.num_classes)
            truths.append(
                {
                    "boxes": torch.as_tensor(record.boxes[keep], dtype=torch.float32),
                    "labels": torch.as_tensor(record.labels[keep]),
                    "difficult": torch.as_tensor(record.difficult[keep]),
                }
            )
    return predictions, truths
