"""Flat tables of detections and ground truths, and their greedy matching, vectorised.

COCO matches detections to ground truth one (image, class) pair at a time, in Python loops.
Here every pair is matched at once: pairs are padded into blocks ``[P, D, G]`` and the greedy
pass walks the detection rank ``d`` (at most 100 steps) while numpy handles all pairs, IoU
thresholds and area ranges together. The arithmetic copies pycocotools' (IoU from ``xywh`` in
float64, ``>=`` thresholds, ties to the later ground truth, crowd regions) so that results
agree exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yolov3.boxes import xyxy_to_xywh_np

# Largest padded IoU block [P, D, G] built at once, and largest P x G (the match state holds
# P x G per IoU threshold and area range): together they bound memory to about 100 MB.
BLOCK_ELEMENTS = 1_000_000
BLOCK_PAIRS_X_TRUTHS = 100_000


@dataclass
class Table:
    """Boxes of many images in flat arrays, sorted by (image, class, then rank).

    Attributes:
        image, label (np.ndarray[N] int64): image index and class of each box.
        xywh (np.ndarray[N, 4] float64): COCO boxes.
        area (np.ndarray[N] float64): what decides small/medium/large: a ground truth's COCO
            ``area`` when given (the segmentation's), else ``w * h``, as pycocotools.
        score (np.ndarray[N] float64): detection scores (ones for ground truth).
        ignore (np.ndarray[N] bool): ground truth flagged difficult / crowd: matched as a COCO
            crowd region (overlap over detection area, any number of matches) and ignored.
        rank (np.ndarray[N] int64): position within its (image, class) pair, best score first.
    """

    image: np.ndarray
    label: np.ndarray
    xywh: np.ndarray
    area: np.ndarray
    score: np.ndarray
    ignore: np.ndarray
    rank: np.ndarray

    def __len__(self) -> int:
        return len(self.image)

    def subset(self, keep: np.ndarray) -> Table:
        return Table(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def _to_numpy(value: Any, dtype: type) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def build_table(items: Sequence[dict], num_classes: int, kind: str) -> Table:
    """Flatten per-image dicts (``boxes`` xyxy, ``labels``, and ``scores`` for predictions or
    optionally ``difficult`` (alias ``iscrowd``) and ``area`` (COCO's annotation area, NaN =
    box area) for ground truth)."""
    keys = ("image", "label", "box", "aux", "area")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for i, item in enumerate(items):
        boxes = _to_numpy(item["boxes"], np.float64).reshape(-1, 4)
        labels = _to_numpy(item["labels"], np.int64).reshape(-1)
        aux_key = "scores" if kind == "prediction" else "difficult"
        default = np.zeros(len(boxes)) if aux_key == "difficult" else None
        aux = item.get(aux_key, item.get("iscrowd", default) if kind != "prediction" else None)
        if aux is None:
            raise ValueError(f"{kind} {i}: missing 'scores'")
        aux = _to_numpy(aux, np.float64).reshape(-1)
        if not len(boxes) == len(labels) == len(aux):
            raise ValueError(
                f"{kind} {i}: {len(boxes)} boxes, {len(labels)} labels and {len(aux)} "
                f"{aux_key}; expected the same number of each"
            )
        bad = (labels < 0) | (labels >= num_classes)
        if bad.any():
            raise ValueError(
                f"{kind} {i}: label {labels[bad][0]} outside 0..{num_classes - 1} "
                f"(num_classes={num_classes})"
            )
        if not np.isfinite(boxes).all() or not np.isfinite(aux).all():
            raise ValueError(f"{kind} {i}: boxes and {aux_key} must be finite numbers")
        parts["image"].append(np.full(len(boxes), i, np.int64))
        parts["label"].append(labels)
        parts["box"].append(boxes)
        parts["aux"].append(aux)
        area = item.get("area") if kind != "prediction" else None
        parts["area"].append(_given_area(area, len(boxes), kind, i))
    image = np.concatenate(parts["image"]) if items else np.zeros(0, np.int64)
    label = np.concatenate(parts["label"]) if items else np.zeros(0, np.int64)
    box = np.concatenate(parts["box"]) if items else np.zeros((0, 4))
    aux = np.concatenate(parts["aux"]) if items else np.zeros(0)
    xywh = xyxy_to_xywh_np(box)
    given = np.concatenate(parts["area"]) if items else np.zeros(0)
    area = np.where(np.isnan(given), xywh[:, 2] * xywh[:, 3], given)
    score = aux if kind == "prediction" else np.ones(len(aux))
    # stable: equal scores keep input order, as pycocotools' mergesort does
    order = np.lexsort((np.arange(len(image)), -score, label, image))
    image, label, xywh, score = image[order], label[order], xywh[order], score[order]
    area = area[order]
    key = image * num_classes + label
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1] if len(key) else np.zeros(0, np.int64)
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    return Table(
        image=image,
        label=label,
        xywh=xywh,
        area=area,
        score=score,
        ignore=(aux[order] != 0) if kind != "prediction" else np.zeros(len(image), bool),
        rank=np.arange(len(image)) - group_start,
    )


def _given_area(area: Any, n: int, kind: str, i: int) -> np.ndarray:
    """Ground-truth areas given with the boxes (NaN where not given)."""
    if area is None:
        return np.full(n, np.nan)
    area = _to_numpy(area, np.float64).reshape(-1)
    if len(area) != n:
        raise ValueError(f"{kind} {i}: {len(area)} areas for {n} boxes")
    return area


def _groups(table: Table, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    key = table.image * num_classes + table.label
    keys, start, count = np.unique(key, return_index=True, return_counts=True)
    return keys, start, count


def box_iou_xywh(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray | None = None) -> np.ndarray:
    """IoU of ``dt (..., D, 4)`` with ``gt (..., G, 4)``, both xywh, as pycocotools' bbIou.

    Against a crowd truth (``crowd (..., G)`` true) the overlap is divided by the detection's
    own area instead of the union.
    """
    dx, dy, dw, dh = (dt[..., :, None, k] for k in range(4))
    gx, gy, gw, gh = (gt[..., None, :, k] for k in range(4))
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    union = dw * dh + gw * gh - inter
    if crowd is not None:
        union = np.where(crowd[..., None, :], dw * dh, union)
    valid = (w > 0) & (h > 0)
    return np.where(valid, inter / np.where(valid, union, 1.0), 0.0)


@dataclass
class Block:
    """Padded IoUs of a group of (image, class) pairs that have both detections and truths.

    Attributes:
        dets (np.ndarray[P, D]): detection row in the table (0 where padding).
        det_valid, gts, gt_valid: likewise, and ``gts (np.ndarray[P, G])``.
        det_count (np.ndarray[P]): detections per pair, non-increasing.
        iou (np.ndarray[P, D, G]): -1 against padded ground truth.
    """

    dets: np.ndarray
    det_valid: np.ndarray
    det_count: np.ndarray
    gts: np.ndarray
    gt_valid: np.ndarray
    iou: np.ndarray


def iou_blocks(dt: Table, gt: Table, num_classes: int, crowd: bool = True) -> Iterator[Block]:
    """Yield the IoU blocks of every (image, class) pair with detections and ground truth.

    With ``crowd``, ignored truths are COCO crowd regions (see :func:`box_iou_xywh`).
    """
    dkeys, dstart, dcount = _groups(dt, num_classes)
    gkeys, gstart, gcount = _groups(gt, num_classes)
    _, di, gi = np.intersect1d(dkeys, gkeys, assume_unique=True, return_indices=True)
    dstart, dcount, gstart, gcount = dstart[di], dcount[di], gstart[gi], gcount[gi]
    # blocks of pairs with similar truth counts pad little; within a block, pairs go by
    # decreasing detection count so that step d of the matcher works on a prefix
    order = np.lexsort((-dcount, gcount))
    dstart, dcount, gstart, gcount = dstart[order], dcount[order], gstart[order], gcount[order]
    i = 0
    while i < len(dcount):
        count = np.arange(1, len(dcount) - i + 1)
        g_max, d_max = np.maximum.accumulate(gcount[i:]), np.maximum.accumulate(dcount[i:])
        fits = (count * g_max * d_max <= BLOCK_ELEMENTS) & (count * g_max <= BLOCK_PAIRS_X_TRUTHS)
        j = i + max(1, int(np.argmin(fits)) if not fits.all() else len(fits))
        by_dets = i + np.argsort(-dcount[i:j], kind="stable")
        yield _block(
            dt, gt, dstart[by_dets], dcount[by_dets], gstart[by_dets], gcount[by_dets], crowd
        )
        i = j


def _block(
    dt: Table,
    gt: Table,
    dstart: np.ndarray,
    dcount: np.ndarray,
    gstart: np.ndarray,
    gcount: np.ndarray,
    crowd: bool,
) -> Block:
    d_off, g_off = np.arange(dcount.max()), np.arange(gcount.max())
    det_valid = d_off[None] < dcount[:, None]
    gt_valid = g_off[None] < gcount[:, None]
    dets = np.where(det_valid, dstart[:, None] + d_off[None], 0)
    gts = np.where(gt_valid, gstart[:, None] + g_off[None], 0)
    iou = box_iou_xywh(dt.xywh[dets], gt.xywh[gts], gt.ignore[gts] & gt_valid if crowd else None)
    iou[~np.broadcast_to(gt_valid[:, None, :], iou.shape)] = -1.0
    return Block(dets, det_valid, dcount, gts, gt_valid, iou)


def match_coco(
    dt: Table, gt: Table, num_classes: int, thresholds: np.ndarray, gt_ignore: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """COCO's greedy matching for every threshold and every ignore mask at once.

    Args:
        dt, gt: tables (detections already capped per pair).
        thresholds (np.ndarray[T]): IoU thresholds.
        gt_ignore (np.ndarray[A, Ngt] bool): per area range, which truths are ignored.

    Returns:
        matched, matched_ignored (np.ndarray[T, A, Ndet] bool): whether each detection is
        matched, and whether the truth it matched is an ignored one.
    """
    T, A = len(thresholds), len(gt_ignore)
    matched_out = np.zeros((T, A, len(dt)), bool)
    ignored_out = np.zeros((T, A, len(dt)), bool)
    thr = np.minimum(thresholds, 1 - 1e-10)[None, :, None, None]
    for blk in iou_blocks(dt, gt, num_classes):
        P, D, G = blk.iou.shape
        ig = gt_ignore[:, blk.gts].transpose(1, 0, 2)[:, None]  # (P, 1, A, G)
        crowd = gt.ignore[blk.gts] & blk.gt_valid  # (P, G)
        taken = np.zeros((P, T, A, G), bool)
        dt_m = np.zeros((P, T, A, D), bool)
        dt_ig = np.zeros((P, T, A, D), bool)
        for d in range(D):
            n = int(np.count_nonzero(blk.det_count > d))
            v = blk.iou[:n, d][:, None, None, :]  # (n, 1, 1, G)
            cand = (v >= thr) & ~taken[:n]
            ok, weak = cand & ~ig[:n], cand & ig[:n]
            has_ok, has_weak = ok.any(-1), weak.any(-1)
            # best IoU, the later truth on ties (pycocotools keeps replacing on equality);
            # a non-ignored truth always wins over an ignored one
            m_ok = G - 1 - np.argmax(np.where(ok, v, -1.0)[..., ::-1], -1)
            m_weak = G - 1 - np.argmax(np.where(weak, v, -1.0)[..., ::-1], -1)
            has = has_ok | has_weak
            p_i, t_i, a_i = np.nonzero(has)
            m = np.where(has_ok, m_ok, m_weak)
            m = m[p_i, t_i, a_i]
            # a crowd region can absorb any number of detections
            single = ~crowd[p_i, m]
            taken[p_i[single], t_i[single], a_i[single], m[single]] = True
            dt_m[:n, ..., d] = has
            dt_ig[:n, ..., d] = has & ~has_ok
        p_v, d_v = np.nonzero(blk.det_valid)
        rows = blk.dets[p_v, d_v]
        matched_out[..., rows] = dt_m[p_v, ..., d_v].transpose(1, 2, 0)
        ignored_out[..., rows] = dt_ig[p_v, ..., d_v].transpose(1, 2, 0)
    return matched_out, ignored_out
