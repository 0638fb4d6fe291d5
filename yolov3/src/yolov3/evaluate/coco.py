"""COCO detection metrics, computed exactly as pycocotools computes them, but vectorised.

The 12 summary numbers (AP, AP50, AP75, AP small/medium/large, AR@1/10/100, AR
small/medium/large) follow ``COCOeval``: 10 IoU thresholds 0.50:0.05:0.95, 101-point
interpolated precision, at most 100 detections per image and class. Object size comes from
a ground truth's COCO ``area`` where the dataset gives one (the segmentation's area, as
pycocotools reads it) and from box ``w * h`` otherwise (always for detections). Ground
truth flagged ``difficult`` (VOC) or ``iscrowd`` (COCO) is a crowd region: matching it
neither helps nor hurts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from yolov3.evaluate.curves import F1Point, best_f1
from yolov3.evaluate.matching import Table, build_table, match_coco

# The very arrays pycocotools builds, so that thresholds compare bit for bit.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
AREA_RANGES = {
    "all": (0.0, 1e5**2),
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}
MAX_DETS = (1, 10, 100)
# (name, AP or AR, IoU threshold or None for 0.50:0.95, area range, max detections)
SUMMARY = (
    ("AP", True, None, "all", 100),
    ("AP50", True, 0.5, "all", 100),
    ("AP75", True, 0.75, "all", 100),
    ("APs", True, None, "small", 100),
    ("APm", True, None, "medium", 100),
    ("APl", True, None, "large", 100),
    ("AR1", False, None, "all", 1),
    ("AR10", False, None, "all", 10),
    ("AR100", False, None, "all", 100),
    ("ARs", False, None, "small", 100),
    ("ARm", False, None, "medium", 100),
    ("ARl", False, None, "large", 100),
)


@dataclass
class EvalResult:
    """Everything an evaluation measured.

    Attributes:
        stats: the 12 COCO summary numbers by name (``"AP"``, ``"AP50"``, ... ``"ARl"``);
            -1 where undefined (no ground truth in that area range), as pycocotools.
        per_class: AP50:95 of each class that has ground truth, by class name.
        per_class_ap50: AP50 of each class that has ground truth.
        num_gt, num_det (np.ndarray[K] int64): per class, non-ignored truths and evaluated
            detections (at most 100 per image and class).
        precision (np.ndarray[T, R, K, A, M]): interpolated precision at each IoU threshold,
            recall threshold, class, area range and max-detections setting; -1 if undefined.
        recall (np.ndarray[T, K, A, M]): final recall, -1 if undefined.
        class_names: names, index = class id.
        best_f1: class-mean precision, recall and F1 at the score threshold that maximises
            F1 (IoU 0.5).
        f1_curves (np.ndarray[3, 1001]): class-mean precision, recall and F1 against the
            score threshold ``yolov3.evaluate.curves.CONF_GRID``.
        extras: further metrics added by callers (VOC AP, ...).
    """

    stats: dict[str, float]
    per_class: dict[str, float]
    per_class_ap50: dict[str, float]
    num_gt: np.ndarray
    num_det: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    class_names: list[str]
    best_f1: F1Point
    f1_curves: np.ndarray
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def ap(self) -> float:
        """AP averaged over IoU 0.50:0.95 (COCO's primary metric)."""
        return self.stats["AP"]

    @property
    def ap50(self) -> float:
        return self.stats["AP50"]

    @property
    def ap75(self) -> float:
        return self.stats["AP75"]

    def as_array(self) -> np.ndarray:
        """The 12 numbers in ``COCOeval.stats`` order."""
        return np.array([self.stats[name] for name, *_ in SUMMARY])

    def summary(self) -> str:
        """The summary lines ``COCOeval.summarize()`` prints."""
        lines = []
        for name, is_ap, iou, area, max_det in SUMMARY:
            title = "Average Precision" if is_ap else "Average Recall"
            iou_text = "0.50:0.95" if iou is None else f"{iou:0.2f}"
            lines.append(
                f" {title:<18} ({'AP' if is_ap else 'AR'}) @[ IoU={iou_text:<9} | "
                f"area={area:>6s} | maxDets={max_det:>3d} ] = {self.stats[name]:0.3f}"
            )
        return "\n".join(lines)

    def table(self) -> str:
        """Per-class AP table: class, ground truths, detections, AP50, AP50:95."""
        width = max([len(n) for n in self.class_names] + [5])
        lines = [f"{'class':<{width}}  {'gt':>6}  {'det':>7}  {'AP50':>6}  {'AP50:95':>7}"]
        for k, name in enumerate(self.class_names):
            if self.num_gt[k] == 0 and self.num_det[k] == 0:
                continue
            ap50, ap = (
                f"{d[name]:.3f}" if name in d else "-"
                for d in (self.per_class_ap50, self.per_class)
            )
            lines.append(
                f"{name:<{width}}  {self.num_gt[k]:>6d}  {self.num_det[k]:>7d}  {ap50:>6}  {ap:>7}"
            )
        total = f"{int(self.num_gt.sum()):>6d}  {int(self.num_det.sum()):>7d}"
        lines.append(f"{'all':<{width}}  {total}  {self.ap50:>6.3f}  {self.ap:>7.3f}")
        return "\n".join(lines)


def area_ignore(table: Table) -> np.ndarray:
    """``np.ndarray[A, N] bool``: box outside each area range (inclusive bounds)."""
    lo = np.array([r[0] for r in AREA_RANGES.values()])[:, None]
    hi = np.array([r[1] for r in AREA_RANGES.values()])[:, None]
    return (table.area[None] < lo) | (table.area[None] > hi)


def accumulate(
    dt: Table, gt: Table, num_classes: int, matched: np.ndarray, matched_ignored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Precision ``[T, R, K, A, M]`` and recall ``[T, K, A, M]`` as ``COCOeval.accumulate``."""
    T, R, A, M = len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS), len(AREA_RANGES), len(MAX_DETS)
    precision = -np.ones((T, R, num_classes, A, M))
    recall = -np.ones((T, num_classes, A, M))
    gt_counted = ~(area_ignore(gt) | gt.ignore[None])  # (A, Ngt)
    npig = np.stack([np.bincount(gt.label[m], minlength=num_classes) for m in gt_counted])
    dt_out = area_ignore(dt)  # (A, Ndet)
    # pycocotools concatenates images in id order, then stably sorts by -score
    order = np.lexsort((dt.rank, dt.image, -dt.score, dt.label))
    bounds = np.searchsorted(dt.label[order], np.arange(num_classes + 1))
    tp_all = matched & ~matched_ignored
    fp_all = ~matched & ~dt_out[None]
    for k in np.flatnonzero(npig.any(0)):
        idx = order[bounds[k] : bounds[k + 1]]
        tp_k, fp_k, rank_k = tp_all[:, :, idx], fp_all[:, :, idx], dt.rank[idx]  # (T, A, n)
        for m, max_det in enumerate(MAX_DETS):
            sel = rank_k < max_det
            tp = np.cumsum(tp_k[:, :, sel], axis=2).astype(float)
            fp = np.cumsum(fp_k[:, :, sel], axis=2).astype(float)
            for a in np.flatnonzero(npig[:, k]):
                precision[:, :, k, a, m], recall[:, k, a, m] = _pr_curve(
                    tp[:, a], fp[:, a], npig[a, k]
                )
    return precision, recall


def _pr_curve(tp: np.ndarray, fp: np.ndarray, npig: int) -> tuple[np.ndarray, np.ndarray]:
    """101-point interpolated precision ``[T, R]`` and final recall ``[T]``."""
    T, nd = tp.shape
    q = np.zeros((T, len(RECALL_THRESHOLDS)))
    if nd == 0:
        return q, np.zeros(T)
    rc = tp / npig
    pr = tp / (fp + tp + np.spacing(1))
    pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # precision envelope
    for t in range(T):
        inds = np.searchsorted(rc[t], RECALL_THRESHOLDS, side="left")
        inside = inds < nd
        q[t, inside] = pr[t, inds[inside]]
    return q, rc[:, -1]


def summarize(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """The 12 summary numbers, as ``COCOeval.summarize``."""
    areas = list(AREA_RANGES)
    stats = {}
    for name, is_ap, iou, area, max_det in SUMMARY:
        s = precision if is_ap else recall
        if iou is not None:
            s = s[np.where(iou == IOU_THRESHOLDS)[0]]
        a, m = areas.index(area), MAX_DETS.index(max_det)
        s = s[..., a, m]
        stats[name] = float(np.mean(s[s > -1])) if (s > -1).any() else -1.0
    return stats


def _class_ap(precision: np.ndarray) -> np.ndarray:
    """Mean of the defined entries over all but the class axis; NaN when none."""
    p = np.moveaxis(precision, 2, 0).reshape(precision.shape[2], -1)
    valid = p > -1
    total = np.where(valid, p, 0.0).sum(1)
    count = valid.sum(1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def evaluate_detections(
    predictions: Sequence[dict],
    ground_truths: Sequence[dict],
    num_classes: int,
    class_names: Sequence[str] | None = None,
) -> EvalResult:
    """Evaluate detections against ground truth with COCO's metrics.

    Args:
        predictions: per image, ``boxes (Tensor or ndarray [N, 4])`` xyxy original pixels,
            ``scores [N]`` and ``labels [N]``.
        ground_truths: per image (same order), ``boxes [M, 4]``, ``labels [M]`` and optionally
            ``difficult [M]`` (ignored in evaluation).
        num_classes: number of classes; labels must lie in ``0..num_classes-1``.
        class_names: names for reports (``"class0"``, ... when None).

    Returns:
        An :class:`EvalResult`; its ``stats`` equal ``COCOeval.stats`` on the same data.

    Raises:
        ValueError: lists of different lengths, a label out of range, mismatched array sizes.
    """
    if len(predictions) != len(ground_truths):
        raise ValueError(
            f"{len(predictions)} predictions for {len(ground_truths)} ground truths; "
            "give one dict per image in both"
        )
    names = (
        list(class_names) if class_names is not None else [f"class{k}" for k in range(num_classes)]
    )
    if len(names) != num_classes:
        raise ValueError(f"{len(names)} class names for num_classes={num_classes}")
    gt = build_table(ground_truths, num_classes, "ground truth")
    dt = build_table(predictions, num_classes, "prediction")
    dt = dt.subset(dt.rank < MAX_DETS[-1])
    gt_ignore = area_ignore(gt) | gt.ignore[None]
    matched, matched_ignored = match_coco(dt, gt, num_classes, IOU_THRESHOLDS, gt_ignore)
    precision, recall = accumulate(dt, gt, num_classes, matched, matched_ignored)
    ap = _class_ap(precision[..., 0, -1][..., None])
    ap50 = _class_ap(precision[:1, :, :, 0, -1][..., None])
    has_gt = np.bincount(gt.label[~gt_ignore[0]], minlength=num_classes)
    tp50 = matched[0, 0] & ~matched_ignored[0, 0]
    fp50 = ~matched[0, 0] & ~area_ignore(dt)[0]
    f1_point, f1_curves = best_f1(dt.score, dt.label, tp50, fp50, has_gt)
    return EvalResult(
        stats=summarize(precision, recall),
        per_class={names[k]: float(ap[k]) for k in range(num_classes) if has_gt[k]},
        per_class_ap50={names[k]: float(ap50[k]) for k in range(num_classes) if has_gt[k]},
        num_gt=has_gt,
        num_det=np.bincount(dt.label, minlength=num_classes),
        precision=precision,
        recall=recall,
        class_names=names,
        best_f1=f1_point,
        f1_curves=f1_curves,
    )


def ground_truths_from_records(records: Sequence, num_classes: int) -> list[dict]:
    """Evaluator ground truths from ``yolov3.data.ImageRecord`` objects.

    Boxes of classes outside ``0..num_classes-1`` (a reader's -1 for an undeclared class)
    are left out.
    """
    truths = []
    for record in records:
        keep = (record.labels >= 0) & (record.labels < num_classes)
        truths.append(
            {
                "boxes": record.boxes[keep],
                "labels": record.labels[keep],
                "difficult": record.difficult[keep],
                "area": record.areas[keep],
            }
        )
    return truths
