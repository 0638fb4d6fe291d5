"""YOLOv3 loss: box (CIoU / GIoU / Darknet MSE), objectness and class terms, per scale.

``YoloLoss(config)(outputs, targets)`` returns ``{"box", "obj", "cls", "total"}``, each a
scalar averaged over the batch. The trainer back-propagates ``total * batch_size`` so that
gradients add up over an accumulated nominal batch as Darknet's do.

Targets are assigned by ``yolov3.train.targets.build_targets`` (best anchor by shape over all
scales), predictions decoded by the same ``yolov3.boxes.decode_cells`` as ``yolov3.predict.decode``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import box_iou, complete_box_iou_loss, generalized_box_iou_loss

from yolov3.boxes import cell_grid, decode_cells
from yolov3.config import ModelConfig, TrainConfig
from yolov3.train.targets import build_targets

_EPS = 1e-7  # numerical guard of the IoU losses


def elementwise_iou(boxes1: Tensor, boxes2: Tensor, eps: float = _EPS) -> Tensor:
    """IoU of matching rows of two ``Tensor[K, 4]`` xyxy boxes -> ``Tensor[K]``."""
    lt = torch.max(boxes1[:, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, 2:], boxes2[:, 2:])
    inter = (rb - lt).clamp_min(0).prod(-1)
    area1 = (boxes1[:, 2:] - boxes1[:, :2]).clamp_min(0).prod(-1)
    area2 = (boxes2[:, 2:] - boxes2[:, :2]).clamp_min(0).prod(-1)
    return inter / (area1 + area2 - inter + eps)


class YoloLoss(nn.Module):
    """Sum of box, objectness and class losses over the output scales.

    Args:
        config: the model's configuration (anchors, strides, classes).
        train: loss hyperparameters (``box_loss``, gains, ``ignore_thresh``, ``iou_aware``,
            ``label_smoothing``, ``multi_anchor_thresh``, ``wh_max``, ``obj_balance``,
            ``loss_ref_size``, ``loss_ref_classes``, ``loss_ref_scales``); defaults if None.
        balance: objectness weight per scale in scale order; ``train.obj_balance`` by stride
            if None.
    """

    def __init__(
        self,
        config: ModelConfig,
        train: TrainConfig | None = None,
        balance: tuple[float, ...] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.hyp = train or TrainConfig()
        self.balance = balance or tuple(_stride_balance(self.hyp, s) for s in config.strides)
        if len(self.balance) != len(config.strides):
            raise ValueError(
                f"{len(self.balance)} balance weights for {len(config.strides)} scales"
            )
        self.register_buffer(
            "anchors", torch.tensor(config.anchors, dtype=torch.float32), persistent=False
        )  # (S, A, 2) input pixels

    def forward(self, outputs: list[Tensor], targets: Tensor) -> dict[str, Tensor]:
        """Compute the losses.

        Args:
            outputs: per scale, raw logits ``Tensor[B, A, H, W, 5 + C]``.
            targets: ``Tensor[M, 6]`` rows ``(batch_idx, cls, x1, y1, x2, y2)`` input pixels.
        """
        hyp, cfg = self.hyp, self.config
        batch = outputs[0].shape[0]
        img_h = outputs[0].shape[2] * cfg.strides[0]
        img_w = outputs[0].shape[3] * cfg.strides[0]
        targets = targets.to(device=outputs[0].device, dtype=torch.float32)
        assigned = build_targets(
            targets,
            cfg,
            [tuple(o.shape[2:4]) for o in outputs],
            multi_anchor_thresh=hyp.multi_anchor_thresh,
        )
        gt_boxes, gt_valid = _pad_per_image(targets, batch)
        zero = outputs[0].float().sum() * 0.0  # keeps every term in the graph, finite
        box_loss, obj_loss, cls_loss = zero, zero, zero
        for i, (out, st) in enumerate(zip(outputs, assigned, strict=True)):
            out = out.float()  # (B, A, H, W, 5+C); AMP outputs are upcast for a stable loss
            stride, anchors = cfg.strides[i], self.anchors[i].to(out.device)
            tobj = torch.zeros_like(out[..., 4])
            weight = self._no_object_weight(out, stride, anchors, gt_boxes, gt_valid)
            if st.batch.numel():
                ps = out[st.batch, st.anchor, st.gy, st.gx]  # (K, 5+C)
                pbox = self._assigned_boxes(ps, st, stride, anchors)
                tbox = st.boxes.to(pbox)
                term = self._box_term(ps, pbox, tbox, st, stride, anchors, img_w, img_h)
                box_loss = box_loss + term
                iou = elementwise_iou(pbox.detach(), tbox).clamp(0, 1)
                tobj[st.batch, st.anchor, st.gy, st.gx] = iou if hyp.iou_aware else 1.0
                weight[st.batch, st.anchor, st.gy, st.gx] = 1.0
                cls_loss = cls_loss + self._class_term(ps[:, 5:], st.labels)
            bce = F.binary_cross_entropy_with_logits(out[..., 4], tobj, reduction="none")
            obj_loss = obj_loss + self.balance[i] * (bce * weight).mean()
        scale = hyp.loss_ref_scales / len(outputs)
        box_loss = box_loss * hyp.box_gain * scale
        obj_loss = obj_loss * hyp.obj_gain * scale * (img_h * img_w) / hyp.loss_ref_size**2
        cls_loss = cls_loss * hyp.cls_gain * scale * cfg.num_classes / hyp.loss_ref_classes
        total = box_loss + obj_loss + cls_loss
        return {"box": box_loss, "obj": obj_loss, "cls": cls_loss, "total": total}

    def _assigned_boxes(self, ps: Tensor, st, stride: int, anchors: Tensor) -> Tensor:
        """Predicted xyxy boxes (input pixels) of the assigned cells."""
        grid = torch.stack([st.gx, st.gy], dim=-1).to(ps)
        return decode_cells(ps, grid, anchors[st.anchor], stride, self.hyp.wh_max)

    def _box_term(self, ps, pbox, tbox, st, stride, anchors, img_w, img_h) -> Tensor:
        kind = self.hyp.box_loss
        if kind == "ciou":
            return complete_box_iou_loss(pbox, tbox, reduction="mean", eps=_EPS)
        if kind == "giou":
            return generalized_box_iou_loss(pbox, tbox, reduction="mean", eps=_EPS)
        # Darknet: squared error on (sigmoid tx, sigmoid ty, tw, th), small boxes weighted up.
        cxcy = (tbox[:, :2] + tbox[:, 2:]) / 2
        twh = (tbox[:, 2:] - tbox[:, :2]).clamp_min(1e-3)
        grid = torch.stack([st.gx, st.gy], dim=-1).to(ps)
        target_xy = cxcy / stride - grid
        target_wh = torch.log(twh / anchors[st.anchor])
        weight = 2.0 - twh.prod(-1) / (img_w * img_h)
        err = (ps[:, :2].sigmoid() - target_xy).pow(2).sum(-1)
        err = err + (ps[:, 2:4] - target_wh).pow(2).sum(-1)
        return (weight * err).mean()

    def _class_term(self, logits: Tensor, labels: Tensor) -> Tensor:
        eps = self.hyp.label_smoothing
        target = torch.full_like(logits, 0.5 * eps)
        target[torch.arange(len(labels), device=logits.device), labels] = 1.0 - 0.5 * eps
        return F.binary_cross_entropy_with_logits(logits, target, reduction="mean")

    def _no_object_weight(self, out, stride, anchors, gt_boxes, gt_valid) -> Tensor:
        """1 where a cell is a negative, 0 where its box overlaps a truth > ignore_thresh."""
        weight = torch.ones_like(out[..., 4])
        if gt_boxes.shape[1] == 0 or self.hyp.ignore_thresh >= 1.0:
            return weight
        with torch.no_grad():
            b, a, h, w, _ = out.shape
            grid = cell_grid(h, w, out)  # (H, W, 2)
            anchor_wh = anchors.view(1, a, 1, 1, 2)
            pred = decode_cells(out, grid, anchor_wh, stride, self.hyp.wh_max).view(b, -1, 4)
            gt = gt_boxes.to(pred)
            best = torch.stack(
                [box_iou(pred[i], gt[i]).masked_fill(~gt_valid[i], 0.0).amax(-1) for i in range(b)]
            )  # (B, A*H*W)
            weight[(best > self.hyp.ignore_thresh).view(b, a, h, w)] = 0.0
        return weight


def _stride_balance(hyp: TrainConfig, stride: int) -> float:
    """``hyp.obj_balance`` lists strides 8, 16, 32, 64...; other strides weigh 1.0."""
    index = {8 * 2**i: i for i in range(len(hyp.obj_balance))}.get(stride)
    return 1.0 if index is None else float(hyp.obj_balance[index])


def _pad_per_image(targets: Tensor, batch: int) -> tuple[Tensor, Tensor]:
    """Ground truths as ``(Tensor[B, G, 4], valid BoolTensor[B, G])``, padded per image."""
    idx = targets[:, 0].long()
    counts = torch.bincount(idx, minlength=batch) if len(idx) else torch.zeros(batch).long()
    g = int(counts.max()) if batch else 0
    boxes = targets.new_zeros(batch, g, 4)
    valid = torch.zeros(batch, g, dtype=torch.bool, device=targets.device)
    if len(idx):
        order = torch.argsort(idx, stable=True)
        idx_sorted = idx[order]
        starts = torch.cumsum(counts, 0) - counts
        slot = torch.arange(len(idx), device=targets.device) - starts[idx_sorted]
        boxes[idx_sorted, slot] = targets[order, 2:6]
        valid[idx_sorted, slot] = True
    return boxes, valid
