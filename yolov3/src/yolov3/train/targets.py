"""Assign ground-truth boxes to output scales, anchors and grid cells.

Input: the ``targets`` of :func:`yolov3.data.dataset.collate`, ``Tensor[M, 6]`` rows
``(batch_idx, cls, x1, y1, x2, y2)`` in input pixels.

Each box goes to the anchor whose shape (w, h) has the highest IoU with the box's shape,
searched over every scale's anchors (9 for YOLOv3, 6 for tiny), and to the grid cell of
that scale that contains the box centre. With ``multi_anchor_thresh``, every other anchor
whose shape IoU exceeds the threshold also gets the box (on its own scale's grid).

Output: one :class:`ScaleTargets` per scale, in output order (coarsest first). Two boxes can
land on the same ``(batch, anchor, gy, gx)``; both entries are kept and the loss decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from yolov3.boxes import wh_iou
from yolov3.config import ModelConfig


@dataclass
class ScaleTargets:
    """The K (box, anchor) assignments of one output scale.

    Attributes:
        batch (LongTensor[K]): image index in the batch.
        anchor (LongTensor[K]): anchor index within this scale (0..A-1).
        gy, gx (LongTensor[K]): grid row and column of the box centre.
        labels (LongTensor[K]): class ids.
        boxes (Tensor[K, 4]): the assigned ground truth, xyxy input pixels.
        anchor_wh (Tensor[K, 2]): the assigned anchor's (w, h) in input pixels.
        target_index (LongTensor[K]): row of the box in the ``targets`` input.
    """

    batch: Tensor
    anchor: Tensor
    gy: Tensor
    gx: Tensor
    labels: Tensor
    boxes: Tensor
    anchor_wh: Tensor
    target_index: Tensor

    def __len__(self) -> int:
        return int(self.batch.numel())


def build_targets(
    targets: Tensor,
    config: ModelConfig,
    grid_sizes: list[tuple[int, int]],
    multi_anchor_thresh: float | None = None,
) -> list[ScaleTargets]:
    """Match every ground-truth box to anchors and cells (see the module docstring).

    Args:
        targets (Tensor[M, 6]): ``(batch_idx, cls, x1, y1, x2, y2)`` input pixels; M may be 0.
        config: anchors and strides, in output order.
        grid_sizes: per scale, the output grid ``(H / stride, W / stride)``.
        multi_anchor_thresh: also assign every anchor with shape IoU above this.

    Returns:
        list[ScaleTargets], one per scale, on the device of ``targets``.
    """
    if len(grid_sizes) != len(config.strides):
        raise ValueError(f"{len(grid_sizes)} grid sizes for {len(config.strides)} scales")
    device = targets.device
    num_anchors = config.num_anchors
    anchors = torch.tensor(config.anchors, dtype=torch.float32, device=device).view(-1, 2)
    boxes = targets[:, 2:6].float()
    wh = (boxes[:, 2:] - boxes[:, :2]).clamp_min(0)
    iou = wh_iou(wh, anchors)  # (M, S*A)
    match = torch.zeros_like(iou, dtype=torch.bool)
    if len(targets):
        match[torch.arange(len(targets), device=device), iou.argmax(1)] = True
    if multi_anchor_thresh is not None:
        match |= iou > multi_anchor_thresh
    gt_idx, flat_anchor = match.nonzero(as_tuple=True)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    result = []
    for scale, ((grid_h, grid_w), stride) in enumerate(
        zip(grid_sizes, config.strides, strict=True)
    ):
        on_scale = flat_anchor // num_anchors == scale
        idx, anchor = gt_idx[on_scale], flat_anchor[on_scale] % num_anchors
        cell = (centres[idx] / stride).floor().long()
        result.append(
            ScaleTargets(
                batch=targets[idx, 0].long(),
                anchor=anchor,
                gy=cell[:, 1].clamp(0, grid_h - 1),
                gx=cell[:, 0].clamp(0, grid_w - 1),
                labels=targets[idx, 1].long(),
                boxes=boxes[idx],
                anchor_wh=anchors[flat_anchor[on_scale]],
                target_index=idx,
            )
        )
    return result
