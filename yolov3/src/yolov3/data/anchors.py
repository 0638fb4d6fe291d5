"""Anchors from a dataset: k-means on box shapes with ``1 - IoU`` as the distance.

Box shapes are measured as the network sees them: letterboxed to ``img_size`` (the long
side of each image scaled to ``img_size``). IoU here is shape IoU (boxes sharing a centre),
the same measure :func:`yolov3.train.build_targets` uses to pick an anchor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from yolov3.boxes import wh_iou
from yolov3.config import Anchor
from yolov3.data.records import DetectionData

MIN_SIDE = 2.0  # input pixels; smaller boxes are annotation noise, not shapes to fit


def box_shapes(data: DetectionData, img_size: int = 416) -> np.ndarray:
    """Every box's ``(w, h)`` in input pixels after letterboxing, ``[N, 2]`` float64."""
    shapes = []
    for record in data.records:
        if len(record.boxes) and max(record.width, record.height) > 0:
            scale = img_size / max(record.width, record.height)
            shapes.append((record.boxes[:, 2:] - record.boxes[:, :2]) * scale)
    wh = np.concatenate(shapes) if shapes else np.zeros((0, 2))
    return wh[(wh >= MIN_SIDE).all(axis=1)]


def _iou(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    return wh_iou(torch.from_numpy(wh), torch.from_numpy(anchors)).numpy()


@dataclass(frozen=True)
class AnchorFit:
    """How well anchors fit box shapes.

    Attributes:
        mean_iou: mean over boxes of the best shape IoU with any anchor.
        recall: fraction of boxes whose best shape IoU exceeds ``thresh``.
        thresh: the threshold of ``recall``.
    """

    mean_iou: float
    recall: float
    thresh: float


def anchor_fit(wh: np.ndarray, anchors: np.ndarray, thresh: float = 0.5) -> AnchorFit:
    """Mean best IoU and recall at ``thresh`` of ``anchors`` ``[K, 2]`` on shapes ``[N, 2]``."""
    if len(wh) == 0:
        return AnchorFit(0.0, 0.0, thresh)
    best = _iou(wh, np.asarray(anchors, np.float64)).max(axis=1)
    return AnchorFit(float(best.mean()), float((best > thresh).mean()), thresh)


def _init_centres(wh: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding with the 1 - IoU distance."""
    centres = [wh[rng.integers(len(wh))]]
    for _ in range(1, k):
        dist = 1 - _iou(wh, np.array(centres)).max(axis=1)
        p = dist**2
        total = p.sum()
        pick = rng.choice(len(wh), p=p / total) if total > 0 else rng.integers(len(wh))
        centres.append(wh[pick])
    return np.array(centres, np.float64)


def kmeans_anchors(
    wh: np.ndarray, k: int = 9, iterations: int = 100, restarts: int = 5, seed: int = 0
) -> np.ndarray:
    """Cluster box shapes into ``k`` anchors, sorted by area (smallest first).

    Each restart seeds with k-means++ and iterates assign (highest IoU) / update (mean
    shape of the cluster) until assignments stop changing; the restart with the highest
    mean best IoU wins.

    Raises:
        ValueError: fewer boxes than anchors.
    """
    if len(wh) < k:
        raise ValueError(f"{len(wh)} boxes are too few to fit {k} anchors")
    rng = np.random.default_rng(seed)
    best, best_iou = None, -1.0
    for _ in range(restarts):
        centres = _init_centres(wh, k, rng)
        assign = np.full(len(wh), -1)
        for _ in range(iterations):
            new = _iou(wh, centres).argmax(axis=1)
            if np.array_equal(new, assign):
                break
            assign = new
            for j in range(k):
                members = wh[assign == j]
                if len(members):
                    centres[j] = members.mean(axis=0)
        score = anchor_fit(wh, centres).mean_iou
        if score > best_iou:
            best, best_iou = centres.copy(), score
    assert best is not None
    return best[np.argsort(best.prod(axis=1))]


def group_by_scale(anchors: np.ndarray, num_scales: int) -> tuple[tuple[Anchor, ...], ...]:
    """Anchors sorted by area -> per-scale groups in output order (largest anchors first),
    rounded to whole pixels, ready for ``ModelConfig(anchors=...)``."""
    if len(anchors) % num_scales:
        raise ValueError(f"{len(anchors)} anchors do not split into {num_scales} scales")
    per = len(anchors) // num_scales
    rounded = [(max(1, round(w)), max(1, round(h))) for w, h in anchors]
    groups = [tuple(rounded[i * per : (i + 1) * per]) for i in range(num_scales)]
    return tuple(reversed(groups))
