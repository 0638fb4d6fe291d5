"""Annotated pictures: boxes with class names and scores drawn onto an image."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from torch import Tensor

# Distinct, saturated colours (RGB); class k uses PALETTE[k % len(PALETTE)].
PALETTE = (
    (255, 56, 56), (50, 205, 50), (30, 144, 255), (255, 178, 29), (207, 56, 255),
    (0, 194, 194), (255, 112, 31), (146, 204, 23), (72, 61, 255), (255, 55, 199),
    (26, 147, 52), (0, 24, 236), (132, 56, 255), (82, 0, 133), (203, 56, 255),
    (255, 149, 200), (61, 219, 134), (168, 153, 44), (255, 157, 151), (52, 69, 147),
)  # fmt: skip


def class_color(label: int) -> tuple[int, int, int]:
    return PALETTE[int(label) % len(PALETTE)]


def draw_detections(
    image: np.ndarray,
    detections: dict[str, Tensor],
    class_names: Sequence[str],
    show_scores: bool = True,
) -> np.ndarray:
    """A copy of ``image`` (HWC uint8 RGB) with each box, its class name and (with
    ``show_scores``) its score.

    Line width and font size follow the image size so labels stay legible on large photos.
    Boxes are drawn from the lowest score up, so where labels overlap the most confident one
    is on top; a label near the right edge is moved left to stay in the picture.
    """
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thickness = max(1, round((h + w) / 600))
    font_scale = max(0.4, (h + w) / 2000)
    order = detections["scores"].argsort(stable=True).tolist()
    boxes = detections["boxes"].round().int()[order].tolist()
    scores, labels = detections["scores"][order].tolist(), detections["labels"][order].tolist()
    for box, score, label in zip(boxes, scores, labels, strict=True):
        x1, y1, x2, y2 = box
        color = class_color(label)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        text = f"{name} {score:.2f}" if show_scores else name
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = y1 - th - base - 2 if y1 - th - base - 2 >= 0 else y1  # inside the box at the top
        left = max(0, min(x1, w - tw - 2))
        cv2.rectangle(out, (left, top), (left + tw + 2, top + th + base + 2), color, -1)
        cv2.putText(
            out,
            text,
            (left + 1, top + th + 1),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
    return out
