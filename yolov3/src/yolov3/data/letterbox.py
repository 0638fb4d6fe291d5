"""Letterbox: resize to a square input keeping the aspect ratio, pad the rest, and map boxes
both ways between original and input pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import torch

from yolov3.data.records import DatasetError

PAD_VALUE = 114  # grey padding, as in Darknet-derived trainers; neutral after 0..1 scaling

BoxArray = TypeVar("BoxArray", torch.Tensor, np.ndarray)


@dataclass(frozen=True)
class Letterbox:
    """The mapping ``input = original * scale + pad``.

    Attributes:
        scale: input pixels per original pixel (same on both axes).
        pad_x, pad_y: left and top padding in input pixels.
    """

    scale: float
    pad_x: float
    pad_y: float

    def _offset(self, boxes: BoxArray) -> BoxArray:
        pad = [self.pad_x, self.pad_y, self.pad_x, self.pad_y]
        if isinstance(boxes, torch.Tensor):
            return boxes.new_tensor(pad)
        return np.asarray(pad, dtype=boxes.dtype)

    def to_input(self, boxes: BoxArray) -> BoxArray:
        """Boxes ``[N, 4]`` xyxy original pixels -> input pixels (Tensor or ndarray)."""
        return boxes * self.scale + self._offset(boxes)

    def to_original(self, boxes: BoxArray) -> BoxArray:
        """Boxes ``[N, 4]`` xyxy input pixels -> original pixels (Tensor or ndarray)."""
        return (boxes - self._offset(boxes)) / self.scale


def letterbox(
    image: np.ndarray, size: int, pad_value: int = PAD_VALUE, fast: bool = False
) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (HWC uint8) so its long side is ``size``, centred on a grey square.

    Args:
        image: the image.
        size: the square's side.
        pad_value: the grey of the padding.
        fast: always resize bilinearly (training, where augmentation blurs anyway);
            otherwise shrink with area averaging, which avoids aliasing but is slower.

    Returns:
        the ``size x size`` image and the :class:`Letterbox` that maps boxes onto it.
    """
    h, w = image.shape[:2]
    lb = fit_letterbox(h, w, size)
    new_w, new_h = _resized(h, w, lb.scale)
    if (new_w, new_h) != (w, h):
        interp = cv2.INTER_AREA if lb.scale < 1 and not fast else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interp)
    left, top = int(lb.pad_x), int(lb.pad_y)
    canvas = np.full((size, size, *image.shape[2:]), pad_value, dtype=image.dtype)
    canvas[top : top + new_h, left : left + new_w] = image
    return canvas, lb


def _resized(h: int, w: int, scale: float) -> tuple[int, int]:
    return max(1, round(w * scale)), max(1, round(h * scale))


def fit_letterbox(height: int, width: int, size: int) -> Letterbox:
    """The :class:`Letterbox` that :func:`letterbox` applies to a ``height x width`` image."""
    scale = size / max(height, width)
    new_w, new_h = _resized(height, width, scale)
    return Letterbox(scale, float((size - new_w) // 2), float((size - new_h) // 2))


def load_image(path: Path) -> np.ndarray:
    """Decode an image as HWC uint8 RGB, upright: its EXIF orientation is applied, as photo
    viewers and annotation tools show it (:func:`yolov3.data.layout.image_size` gives the
    same oriented size).

    Raises:
        DatasetError: the file is missing or cannot be decoded.
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)  # applies the EXIF orientation
    if image is None:
        reason = "not found" if not Path(path).is_file() else "cannot be decoded"
        raise DatasetError(f"{path}: image {reason}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
