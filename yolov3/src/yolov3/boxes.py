"""One canonical box format: ``xyxy`` in absolute pixels, as ``Tensor[N, 4]`` float.

Other formats appear only at the edges (file readers and writers, the network's
``cxcywh`` parametrisation) and are converted with the named functions here.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import box_convert


def normalized_cxcywh_to_xyxy(boxes: Tensor, width: float, height: float) -> Tensor:
    """YOLO txt boxes ``(cx, cy, w, h)`` in 0..1 -> ``xyxy`` absolute pixels."""
    scale = boxes.new_tensor([width, height, width, height])
    return box_convert(boxes * scale, "cxcywh", "xyxy")


def xyxy_to_normalized_cxcywh(boxes: Tensor, width: float, height: float) -> Tensor:
    """``xyxy`` absolute pixels -> YOLO txt ``(cx, cy, w, h)`` in 0..1."""
    scale = boxes.new_tensor([width, height, width, height])
    return box_convert(boxes, "xyxy", "cxcywh") / scale


def xywh_to_xyxy(boxes: Tensor) -> Tensor:
    """COCO ``(x, y, w, h)`` -> ``xyxy``."""
    return box_convert(boxes, "xywh", "xyxy")


def xyxy_to_xywh(boxes: Tensor) -> Tensor:
    """``xyxy`` -> COCO ``(x, y, w, h)``."""
    return box_convert(boxes, "xyxy", "xywh")


def wh_iou(wh1: Tensor, wh2: Tensor) -> Tensor:
    """IoU of boxes that share a centre, from widths and heights only.

    Args:
        wh1 (Tensor[N, 2]), wh2 (Tensor[M, 2]): widths and heights.

    Returns:
        Tensor[N, M]: shape IoU, used to match boxes to anchors.
    """
    inter = torch.min(wh1[:, None], wh2[None]).prod(-1)
    union = wh1.prod(-1)[:, None] + wh2.prod(-1)[None] - inter
    return inter / union.clamp_min(1e-12)
