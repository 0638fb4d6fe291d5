"""Every box conversion, in one place: a torch flavour and a NumPy flavour (``*_np``).

The canonical format is ``xyxy`` in absolute pixels (``Tensor[N, 4]`` or ``np.ndarray[N, 4]``).
Other formats appear only at the edges and are converted here:

- ``xywh``: COCO's ``(x, y, w, h)`` (JSON files, the evaluator's tables);
- ``cxcywh``: centre and size (``normalized_``: divided by the image size, YOLO txt);
- the network's cell parametrisation ``(tx, ty, tw, th)``: :func:`decode_cells`.

Both flavours use the same arithmetic in the same order, so a float64 tensor and a float64
array give bit-identical results.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

# --- torch ------------------------------------------------------------------------------


def cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    """``(cx, cy, w, h)`` -> ``xyxy``, on the last dimension."""
    xy, wh = boxes[..., :2], boxes[..., 2:4]
    return torch.cat([xy - wh / 2, xy + wh / 2], dim=-1)


def xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    """``xyxy`` -> ``(cx, cy, w, h)``, on the last dimension."""
    lo, hi = boxes[..., :2], boxes[..., 2:4]
    return torch.cat([(lo + hi) / 2, hi - lo], dim=-1)


def normalized_cxcywh_to_xyxy(boxes: Tensor, width: float, height: float) -> Tensor:
    """YOLO txt boxes ``(cx, cy, w, h)`` in 0..1 -> ``xyxy`` absolute pixels."""
    return cxcywh_to_xyxy(boxes) * boxes.new_tensor([width, height, width, height])


def xyxy_to_normalized_cxcywh(boxes: Tensor, width: float, height: float) -> Tensor:
    """``xyxy`` absolute pixels -> YOLO txt ``(cx, cy, w, h)`` in 0..1."""
    scale = boxes.new_tensor([width, height])
    lo, hi = boxes[..., :2], boxes[..., 2:4]
    return torch.cat([(lo + hi) / 2 / scale, (hi - lo) / scale], dim=-1)


def xywh_to_xyxy(boxes: Tensor) -> Tensor:
    """COCO ``(x, y, w, h)`` -> ``xyxy``."""
    return torch.cat([boxes[..., :2], boxes[..., :2] + boxes[..., 2:4]], dim=-1)


def xyxy_to_xywh(boxes: Tensor) -> Tensor:
    """``xyxy`` -> COCO ``(x, y, w, h)``."""
    return torch.cat([boxes[..., :2], boxes[..., 2:4] - boxes[..., :2]], dim=-1)


def clip_boxes(boxes: Tensor, width: float, height: float) -> Tensor:
    """``xyxy`` boxes clamped in place to the image ``[0, width] x [0, height]``."""
    boxes[..., 0::2] = boxes[..., 0::2].clamp(0, width)
    boxes[..., 1::2] = boxes[..., 1::2].clamp(0, height)
    return boxes


def decode_cells(
    raw: Tensor, grid: Tensor, anchor_wh: Tensor, stride: float, wh_max: float | None = None
) -> Tensor:
    """The network's box parametrisation -> ``xyxy`` input pixels (Darknet's ``[yolo]`` layer).

    ``xy = (sigmoid(tx, ty) + grid) * stride``, ``wh = exp(tw, th) * anchor``.

    Args:
        raw (Tensor[..., >=4]): logits whose first four channels are ``tx, ty, tw, th``.
        grid (Tensor[..., 2]): the cells' ``(column, row)``, broadcastable to ``raw[..., :2]``.
        anchor_wh (Tensor[..., 2]): anchor ``(w, h)`` in input pixels, broadcastable likewise.
        stride: input pixels per cell.
        wh_max: bound on ``tw, th`` before ``exp`` (the loss's guard against overflow).

    Returns:
        Tensor[..., 4]: ``x1, y1, x2, y2`` in input pixels.
    """
    twh = raw[..., 2:4] if wh_max is None else raw[..., 2:4].clamp(max=wh_max)
    xy = (raw[..., :2].sigmoid() + grid) * stride
    wh = torch.exp(twh) * anchor_wh
    return torch.cat([xy - wh / 2, xy + wh / 2], dim=-1)


def cell_grid(height: int, width: int, like: Tensor) -> Tensor:
    """``Tensor[H, W, 2]`` of each cell's ``(column, row)``, on ``like``'s device and dtype."""
    gy, gx = torch.meshgrid(
        torch.arange(height, device=like.device, dtype=like.dtype),
        torch.arange(width, device=like.device, dtype=like.dtype),
        indexing="ij",
    )
    return torch.stack((gx, gy), -1)


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


# --- NumPy ------------------------------------------------------------------------------


def normalized_cxcywh_to_xyxy_np(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """YOLO txt ``(cx, cy, w, h)`` in 0..1 -> ``xyxy`` absolute pixels (float64)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    xy, wh = b[:, :2], b[:, 2:]
    return np.concatenate([xy - wh / 2, xy + wh / 2], 1) * np.array([width, height] * 2)


def xyxy_to_normalized_cxcywh_np(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """``xyxy`` absolute pixels -> YOLO txt ``(cx, cy, w, h)`` in 0..1 (float64)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    scale = np.array([width, height], np.float64)
    return np.concatenate([(b[:, :2] + b[:, 2:]) / 2 / scale, (b[:, 2:] - b[:, :2]) / scale], 1)


def xywh_to_xyxy_np(boxes: np.ndarray) -> np.ndarray:
    """COCO ``(x, y, w, h)`` -> ``xyxy`` (float64)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], 1)


def xyxy_to_xywh_np(boxes: np.ndarray) -> np.ndarray:
    """``xyxy`` -> COCO ``(x, y, w, h)``, in the float64 arithmetic every export shares."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1)
