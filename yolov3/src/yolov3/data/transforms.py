"""Box-aware training augmentation on ``torchvision.transforms.v2`` and ``tv_tensors``.

The geometric transforms move the boxes with the pixels because the boxes travel as
``tv_tensors.BoundingBoxes``; boxes that leave the image are clamped, and those left
smaller than ``min_box_size`` are dropped with their labels (``SanitizeBoundingBoxes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch
from torch import Tensor
from torchvision import tv_tensors
from torchvision.transforms import v2

from yolov3.data.letterbox import PAD_VALUE


@dataclass(frozen=True)
class Augmentation:
    """Augmentation strengths (defaults follow common YOLOv3 training recipes).

    Attributes:
        scale: random zoom range of the affine transform.
        translate: random shift, as a fraction of the input size, on each axis.
        flip_prob: probability of a horizontal flip.
        brightness: value gain drawn from ``1 +- brightness`` (HSV "V").
        saturation: saturation gain drawn from ``1 +- saturation`` (HSV "S").
        hue: hue gain drawn from ``1 +- hue`` (HSV "H"); see :class:`RandomHSV`.
        contrast: contrast factor drawn from ``1 +- contrast`` (``v2.ColorJitter``).
        mosaic_prob: with mosaic enabled, probability that an item is a 4-image mosaic.
        min_box_size: boxes narrower or shorter than this (input pixels) after the
            transforms are dropped.
        min_visible: in a mosaic, boxes keeping less than this fraction of their area
            inside their tile are dropped.
    """

    scale: tuple[float, float] = (0.5, 1.5)
    translate: float = 0.1
    flip_prob: float = 0.5
    brightness: float = 0.4
    saturation: float = 0.7
    hue: float = 0.015
    contrast: float = 0.0
    mosaic_prob: float = 1.0
    min_box_size: float = 2.0
    min_visible: float = 0.2


class RandomHSV:
    """Random gains on hue, saturation and value of an RGB uint8 ``tv_tensors.Image``.

    A step of a ``v2.Compose`` over a sample dict; other entries (boxes, labels) pass
    through. It works in OpenCV's 8-bit HSV with lookup tables, about ten times faster
    than ``v2.ColorJitter``'s hue path, and draws its gains from torch's generator so the
    item seed controls it like the v2 transforms.

    Args:
        hue: hue gain drawn from ``1 +- hue`` (of OpenCV's 0..180 hue range).
        saturation: saturation gain drawn from ``1 +- saturation``.
        value: value (brightness) gain drawn from ``1 +- value``.
    """

    def __init__(self, hue: float, saturation: float, value: float) -> None:
        self.gains = torch.tensor([hue, saturation, value], dtype=torch.float64)

    def __call__(self, sample: dict) -> dict:
        gain = (1 + (torch.rand(3, dtype=torch.float64) * 2 - 1) * self.gains).numpy()
        image = sample["image"]
        hwc = np.ascontiguousarray(image.permute(1, 2, 0).numpy())
        hue, sat, val = cv2.split(cv2.cvtColor(hwc, cv2.COLOR_RGB2HSV))
        x = np.arange(256, dtype=np.float64)
        lut_hue = ((x * gain[0]) % 180).astype(np.uint8)
        lut_sat = np.clip(x * gain[1], 0, 255).astype(np.uint8)
        lut_val = np.clip(x * gain[2], 0, 255).astype(np.uint8)
        hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
        rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        out = tv_tensors.wrap(torch.from_numpy(rgb).permute(2, 0, 1).contiguous(), like=image)
        return {**sample, "image": out}


@lru_cache(maxsize=8)
def build_pipeline(aug: Augmentation) -> v2.Compose:
    """The v2 pipeline for ``aug``: affine, flip, HSV jitter, contrast, clamp, sanitize."""
    steps: list[v2.Transform] = []
    if aug.scale != (1.0, 1.0) or aug.translate:
        steps.append(
            v2.RandomAffine(
                degrees=0,
                translate=(aug.translate, aug.translate),
                scale=aug.scale,
                interpolation=v2.InterpolationMode.BILINEAR,
                fill={tv_tensors.Image: PAD_VALUE, "others": 0},
            )
        )
    if aug.flip_prob:
        steps.append(v2.RandomHorizontalFlip(aug.flip_prob))
    if aug.hue or aug.saturation or aug.brightness:
        steps.append(RandomHSV(aug.hue, aug.saturation, aug.brightness))
    if aug.contrast:
        steps.append(v2.ColorJitter(contrast=aug.contrast))
    steps += [v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes(min_size=aug.min_box_size)]
    return v2.Compose(steps)


def augment_sample(
    image: Tensor, boxes: Tensor, labels: Tensor, aug: Augmentation, seed: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Apply the random pipeline with its own seed, leaving the global RNG as it was.

    Args:
        image (Tensor[3, H, W] uint8): the letterboxed (or mosaic) input.
        boxes (Tensor[N, 4]): xyxy input pixels.
        labels (LongTensor[N]): class ids, dropped together with their boxes.
        aug: strengths.
        seed: the item's seed; the same seed gives the same result.

    Returns:
        the transformed image (uint8), boxes and labels.
    """
    height, width = image.shape[-2:]
    sample = {
        "image": tv_tensors.Image(image),
        "boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(height, width)),
        "labels": labels,
    }
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = build_pipeline(aug)(sample)
    return out["image"].as_subclass(Tensor), out["boxes"].as_subclass(Tensor), out["labels"]


def _tile(
    corner: int, xc: int, yc: int, w: int, h: int, size: int
) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Canvas region ``(x1, y1, x2, y2)`` of a tile and the canvas position of its image's
    top-left corner; tiles meet at the centre ``(xc, yc)``."""
    left = corner in (0, 2)
    top = corner in (0, 1)
    ox = xc - w if left else xc
    oy = yc - h if top else yc
    region = (max(ox, 0), max(oy, 0), min(ox + w, size), min(oy + h, size))
    return region, (ox, oy)


def mosaic(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    size: int,
    rng: np.random.Generator,
    min_visible: float = 0.2,
    min_box_size: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four images around a random centre on one ``size x size`` canvas.

    Args:
        parts: four ``(image HWC uint8, boxes [N, 4] xyxy original px, labels [N])``.
        size: the canvas size.
        rng: the item's generator (picks the centre).
        min_visible: drop boxes with less than this fraction of their area on the canvas.
        min_box_size: drop boxes narrower or shorter than this after cropping.

    Returns:
        the canvas, boxes (float32, xyxy canvas pixels) and labels.
    """
    canvas = np.full((size, size, 3), PAD_VALUE, np.uint8)
    xc, yc = (int(v) for v in rng.uniform(size * 0.25, size * 0.75, 2))
    all_boxes, all_labels = [], []
    for corner, (image, boxes, labels) in enumerate(parts):
        h0, w0 = image.shape[:2]
        scale = size / max(h0, w0)
        w, h = max(1, round(w0 * scale)), max(1, round(h0 * scale))
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        (x1, y1, x2, y2), (ox, oy) = _tile(corner, xc, yc, w, h, size)
        canvas[y1:y2, x1:x2] = image[y1 - oy : y2 - oy, x1 - ox : x2 - ox]
        placed = boxes.astype(np.float32) * scale + np.array([ox, oy, ox, oy], np.float32)
        clipped = np.clip(placed, [x1, y1, x1, y1], [x2, y2, x2, y2]).astype(np.float32)
        area = np.prod(placed[:, 2:] - placed[:, :2], axis=1)
        wh = clipped[:, 2:] - clipped[:, :2]
        keep = (wh.min(axis=1) >= min_box_size) & (wh.prod(axis=1) >= min_visible * area)
        all_boxes.append(clipped[keep])
        all_labels.append(labels[keep])
    return canvas, np.concatenate(all_boxes).reshape(-1, 4), np.concatenate(all_labels)
