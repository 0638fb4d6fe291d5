"""From raw network logits to detections: decoding and non-maximum suppression."""

from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import batched_nms

from yolov3.boxes import cell_grid, decode_cells
from yolov3.config import ModelConfig

# Boxes kept per image before NMS: bounds NMS time when a bad model fires everywhere.
MAX_CANDIDATES = 30_000


def decode(outputs: list[Tensor], config: ModelConfig) -> Tensor:
    """Turn raw head outputs into boxes and probabilities.

    ``x = (sigmoid(tx) + grid_x) * stride``, ``w = exp(tw) * anchor_w`` and likewise for y and h,
    as in Darknet's ``[yolo]`` layer.

    Args:
        outputs: one ``Tensor[B, A, H, W, 5 + C]`` of logits per scale, in ``config.strides``
            order.
        config: gives each scale's stride and anchors (input pixels).

    Returns:
        Tensor[B, N, 5 + C]: ``x1, y1, x2, y2`` in input pixels, objectness probability, class
        probabilities; ``N = sum(A * H * W)``, scales in order, then anchor, row, column.
    """
    if len(outputs) != len(config.strides):
        raise ValueError(
            f"got {len(outputs)} output scales for a config with strides {config.strides}"
        )
    decoded = []
    for out, stride, anchors in zip(outputs, config.strides, config.anchors, strict=True):
        b, a, h, w, ch = out.shape
        if a != len(anchors) or ch != 5 + config.num_classes:
            raise ValueError(
                f"output of shape {tuple(out.shape)} does not match {len(anchors)} anchors and "
                f"{config.num_classes} classes (expected [B, {len(anchors)}, H, W, "
                f"{5 + config.num_classes}])"
            )
        out = out.float()
        grid = cell_grid(h, w, out)  # (H, W, 2)
        anchor_wh = torch.tensor(anchors, device=out.device, dtype=out.dtype).view(1, a, 1, 1, 2)
        boxes = decode_cells(out, grid, anchor_wh, stride)  # (B, A, H, W, 4)
        decoded.append(torch.cat((boxes, out[..., 4:].sigmoid()), -1).reshape(b, -1, ch))
    return torch.cat(decoded, 1)


def postprocess(
    decoded: Tensor,
    conf_thresh: float = 0.001,
    iou_thresh: float = 0.5,
    max_det: int = 300,
    classes: list[int] | None = None,
    multi_label: bool = False,
) -> list[dict[str, Tensor]]:
    """Score, filter and suppress decoded boxes, image by image.

    A box's score for a class is objectness x class probability. NMS is class-aware
    (``torchvision.ops.batched_nms``): boxes of different classes never suppress each other.

    Args:
        decoded (Tensor[B, N, 5 + C]): output of :func:`decode`.
        conf_thresh: keep scores strictly above this.
        iou_thresh: NMS IoU threshold.
        max_det: keep at most this many detections per image, best first.
        classes: keep only these class ids (all when None).
        multi_label: score every class of a box above ``conf_thresh`` (Darknet's behaviour,
            better recall for mAP) instead of only its best class.

    Returns:
        One dict per image: ``boxes (Tensor[K, 4])`` xyxy input pixels, ``scores (Tensor[K])``,
        ``labels (Int64Tensor[K])``, sorted by decreasing score.
    """
    if decoded.dim() != 3 or decoded.shape[-1] < 6:
        raise ValueError(f"expected decoded Tensor[B, N, 5 + C], got {tuple(decoded.shape)}")
    keep_classes = None
    if classes is not None:
        keep_classes = torch.as_tensor(list(classes), device=decoded.device, dtype=torch.long)
    return [
        _postprocess_one(image, conf_thresh, iou_thresh, max_det, keep_classes, multi_label)
        for image in decoded
    ]


def _postprocess_one(
    pred: Tensor,
    conf_thresh: float,
    iou_thresh: float,
    max_det: int,
    classes: Tensor | None,
    multi_label: bool,
) -> dict[str, Tensor]:
    pred = pred[pred[:, 4] > conf_thresh]  # a score never exceeds objectness: cheap pre-filter
    scores_all = pred[:, 5:] * pred[:, 4:5]  # (K, C)
    if multi_label:
        idx, labels = (scores_all > conf_thresh).nonzero(as_tuple=True)
        boxes, scores = pred[idx, :4], scores_all[idx, labels]
    else:
        scores, labels = scores_all.max(1) if len(pred) else (pred[:, 4], pred[:, 4].long())
        mask = scores > conf_thresh
        boxes, scores, labels = pred[mask, :4], scores[mask], labels[mask]
    if classes is not None:
        mask = torch.isin(labels, classes)
        boxes, scores, labels = boxes[mask], scores[mask], labels[mask]
    if len(scores) > MAX_CANDIDATES:
        top = scores.topk(MAX_CANDIDATES).indices
        boxes, scores, labels = boxes[top], scores[top], labels[top]
    keep = batched_nms(boxes, scores, labels, iou_thresh)[:max_det]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep].long()}
