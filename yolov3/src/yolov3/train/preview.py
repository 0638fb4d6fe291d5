"""``train_batch0.jpg``: the first training batch as the network sees it, boxes drawn.

A look at it catches most data mistakes before hours of training: labels on the wrong
objects, boxes shifted by a coordinate mix-up, augmentation that crops everything away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from yolov3.predict.draw import draw_detections

MAX_TILES = 16  # at most a 4 x 4 grid


def batch_mosaic(images: Tensor, targets: Tensor, class_names: Sequence[str]) -> np.ndarray:
    """A grid of the batch's images (HWC uint8 RGB) with their ground-truth boxes.

    Args:
        images (Tensor[B, 3, S, S]): float 0..1, as the loader yields them.
        targets (Tensor[M, 6]): ``(batch_idx, cls, x1, y1, x2, y2)`` in input pixels.
        class_names: index = class id.
    """
    count = min(len(images), MAX_TILES)
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    size = images.shape[-1]
    grid = np.full((rows * size, cols * size, 3), 255, np.uint8)
    pixels = (images[:count].detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    targets = targets.detach().cpu()
    for i in range(count):
        tile = np.ascontiguousarray(pixels[i].permute(1, 2, 0).numpy())
        mine = targets[targets[:, 0] == i]
        boxes = {
            "boxes": mine[:, 2:6],
            "labels": mine[:, 1].long(),
            "scores": torch.ones(len(mine)),
        }
        tile = draw_detections(tile, boxes, class_names, show_scores=False)
        row, col = divmod(i, cols)
        grid[row * size : (row + 1) * size, col * size : (col + 1) * size] = tile
    return grid


def save_batch_preview(
    path: Path, images: Tensor, targets: Tensor, class_names: Sequence[str]
) -> None:
    """Write :func:`batch_mosaic` of the batch to ``path`` (JPEG)."""
    grid = batch_mosaic(images, targets, class_names)
    if not cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write the training batch preview")
