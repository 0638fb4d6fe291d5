"""Operating points and error breakdowns: best-F1 threshold and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yolov3.boxes import xyxy_to_xywh_np
from yolov3.evaluate.matching import _to_numpy, box_iou_xywh

CONF_GRID = np.linspace(0.0, 1.0, 1001)


@dataclass(frozen=True)
class F1Point:
    """Mean precision, recall and F1 over classes with truth, at one score threshold."""

    conf: float
    precision: float
    recall: float
    f1: float


def best_f1(
    scores: np.ndarray, labels: np.ndarray, tp: np.ndarray, fp: np.ndarray, npos: np.ndarray
) -> tuple[F1Point, np.ndarray]:
    """The score threshold that maximises the class-mean F1.

    Args:
        scores, labels (np.ndarray[N]): detections; ``tp`` and ``fp`` (np.ndarray[N] bool) say
            how each counts at the IoU of interest (neither when it matched an ignored truth).
        npos (np.ndarray[K]): non-ignored truths per class.

    Returns:
        The best point, and the class-mean ``(precision, recall, f1)`` curves over
        ``CONF_GRID`` as ``np.ndarray[3, len(CONF_GRID)]``.
    """
    classes = np.flatnonzero(npos)
    p = np.zeros((len(classes), len(CONF_GRID)))
    r = np.zeros_like(p)
    for row, k in enumerate(classes):
        mine = labels == k
        order = np.argsort(-scores[mine], kind="stable")
        s, ctp, cfp = scores[mine][order], np.cumsum(tp[mine][order]), np.cumsum(fp[mine][order])
        kept = np.searchsorted(-s, -CONF_GRID, side="right")  # detections with score >= conf
        t = np.where(kept > 0, ctp[np.maximum(kept - 1, 0)] if len(s) else 0, 0)
        f = np.where(kept > 0, cfp[np.maximum(kept - 1, 0)] if len(s) else 0, 0)
        p[row] = np.where(t + f > 0, t / np.maximum(t + f, 1), 0.0)
        r[row] = t / npos[k]
    f1 = 2 * p * r / np.maximum(p + r, 1e-16)
    curves = np.stack([p.mean(0), r.mean(0), f1.mean(0)]) if len(classes) else np.zeros((3, 1001))
    i = len(CONF_GRID) - 1 - int(np.argmax(curves[2][::-1]))  # the highest best threshold
    point = F1Point(float(CONF_GRID[i]), *(float(c) for c in curves[:, i]))
    return point, curves


def confusion_matrix(
    predictions: Sequence[dict],
    ground_truths: Sequence[dict],
    num_classes: int,
    conf_thresh: float = 0.25,
    iou_thresh: float = 0.5,
) -> np.ndarray:
    """Counts of (true class, predicted class) over matched boxes, with a background class.

    Detections above ``conf_thresh`` are matched one-to-one to truths of any class, best IoU
    first, when IoU >= ``iou_thresh``.

    Returns:
        np.ndarray[K + 1, K + 1] int64: rows are true classes, columns predicted ones; index K
        is background (a missed truth in the last column, a false alarm in the last row).
    """
    K = num_classes
    matrix = np.zeros((K + 1, K + 1), np.int64)
    for pred, gt in zip(predictions, ground_truths, strict=True):
        keep = _to_numpy(pred["scores"], np.float64).reshape(-1) > conf_thresh
        d_box = _to_numpy(pred["boxes"], np.float64).reshape(-1, 4)[keep]
        d_lab = _to_numpy(pred["labels"], np.int64).reshape(-1)[keep]
        g_box = _to_numpy(gt["boxes"], np.float64).reshape(-1, 4)
        g_lab = _to_numpy(gt["labels"], np.int64).reshape(-1)
        iou = box_iou_xywh(xyxy_to_xywh_np(d_box), xyxy_to_xywh_np(g_box))  # (D, G)
        d_i, g_i = np.nonzero(iou >= iou_thresh)
        order = np.argsort(-iou[d_i, g_i], kind="stable")
        d_i, g_i = d_i[order], g_i[order]
        _, first = np.unique(d_i, return_index=True)  # each detection: its best truth ...
        d_i, g_i = d_i[np.sort(first)], g_i[np.sort(first)]
        _, first = np.unique(g_i, return_index=True)  # ... each truth: its best detection
        d_i, g_i = d_i[first], g_i[first]
        np.add.at(matrix, (g_lab[g_i], d_lab[d_i]), 1)
        np.add.at(matrix, (np.delete(g_lab, g_i), K), 1)
        np.add.at(matrix, (K, np.delete(d_lab, d_i)), 1)
    return matrix
