"""Pascal VOC average precision: the 2007 11-point metric and the all-point (2010+) metric.

Matching follows the VOC devkit: detections of a class in decreasing score order; each takes
the truth it overlaps most; IoU above the threshold on a truth not yet taken is a true
positive, on a ``difficult`` truth it is ignored, anything else is a false positive. Boxes are
continuous coordinates (no devkit ``+1`` pixel).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yolov3.evaluate.matching import Table, build_table, iou_blocks

VOC_METHODS = ("voc07", "voc")


def voc_ap(
    predictions: Sequence[dict],
    ground_truths: Sequence[dict],
    num_classes: int,
    iou_thresh: float = 0.5,
    method: str = "voc",
) -> tuple[float, np.ndarray]:
    """VOC mean AP and per-class AP.

    Args:
        predictions, ground_truths: as :func:`yolov3.evaluate.evaluate_detections`.
        iou_thresh: a detection matches above this IoU (strictly, as the devkit).
        method: ``"voc07"`` (11-point interpolation) or ``"voc"`` (area under the
            precision envelope at every recall point).

    Returns:
        ``(mAP, ap)`` where ``ap (np.ndarray[K])`` is NaN for classes without ground truth and
        mAP is the mean over the others (NaN when there are none).
    """
    if method not in VOC_METHODS:
        raise ValueError(f"unknown VOC method {method!r}; expected one of {VOC_METHODS}")
    if len(predictions) != len(ground_truths):
        raise ValueError(f"{len(predictions)} predictions for {len(ground_truths)} ground truths")
    gt = build_table(ground_truths, num_classes, "ground truth")
    dt = build_table(predictions, num_classes, "prediction")
    is_tp, is_fp = _match_voc(dt, gt, num_classes, iou_thresh)
    npos = np.bincount(gt.label[~gt.ignore], minlength=num_classes)
    order = np.lexsort((dt.rank, dt.image, -dt.score, dt.label))
    bounds = np.searchsorted(dt.label[order], np.arange(num_classes + 1))
    ap = np.full(num_classes, np.nan)
    for k in np.flatnonzero(npos):
        idx = order[bounds[k] : bounds[k + 1]]
        tp, fp = np.cumsum(is_tp[idx]), np.cumsum(is_fp[idx])
        recall = tp / npos[k]
        precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        ap[k] = _voc07(recall, precision) if method == "voc07" else _all_points(recall, precision)
    defined = ~np.isnan(ap)
    return (float(ap[defined].mean()) if defined.any() else float("nan")), ap


def _match_voc(
    dt: Table, gt: Table, num_classes: int, iou_thresh: float
) -> tuple[np.ndarray, np.ndarray]:
    best_gt = np.full(len(dt), -1)
    best_iou = np.zeros(len(dt))
    for blk in iou_blocks(dt, gt, num_classes, crowd=False):
        first_max = blk.iou.argmax(-1)  # (P, D): the devkit's np.argmax keeps the first
        p_v, d_v = np.nonzero(blk.det_valid)
        rows = blk.dets[p_v, d_v]
        best_gt[rows] = blk.gts[p_v, first_max[p_v, d_v]]
        best_iou[rows] = blk.iou[p_v, d_v, first_max[p_v, d_v]]
    hit = best_iou > iou_thresh
    ignored = hit & gt.ignore[np.maximum(best_gt, 0)]
    claims = hit & ~ignored
    # in score order, only the first detection to claim a truth is a true positive
    order = np.lexsort((dt.rank, dt.image, -dt.score))
    claim_rows = order[claims[order]]
    _, first = np.unique(best_gt[claim_rows], return_index=True)
    is_tp = np.zeros(len(dt), bool)
    is_tp[claim_rows[first]] = True
    return is_tp, ~is_tp & ~ignored


def _voc07(recall: np.ndarray, precision: np.ndarray) -> float:
    points = [
        precision[recall >= t].max() if (recall >= t).any() else 0.0
        for t in np.arange(0.0, 1.1, 0.1)
    ]
    return float(np.mean(points))


def _all_points(recall: np.ndarray, precision: np.ndarray) -> float:
    mrec = np.r_[0.0, recall, 1.0]
    mpre = np.r_[0.0, precision, 0.0]
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    step = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))
