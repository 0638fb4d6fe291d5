"""The training set as a run uses it: one class for ``single_cls``, images cached in RAM.

``--cache ram`` decodes every training image once, resized so that its longer side is the
largest input size of the run, and keeps it in memory: later epochs only augment. The
cache is built in the main process before the loader starts its workers, which share it
(fork: copy-on-write pages that are only read). Validation images are read from disk, so
evaluation stays in the original pixels of the annotations.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from yolov3.data import DetectionData, DetectionDataset

SINGLE_CLASS_NAME = "object"
MEMORY_HEADROOM = 0.8  # refuse a cache above this share of the memory available now


class CacheTooLarge(ValueError):
    """The image cache would not fit in the memory available."""


def as_single_class(data: DetectionData) -> DetectionData:
    """``data`` with every box of a declared class relabelled 0, the one class ``"object"``.

    Labels of undeclared classes (-1) stay -1, so the checks still report them.
    """
    records = []
    for record in data.records:
        labels = np.where(record.labels >= 0, 0, record.labels)
        records.append(replace(record, labels=labels))
    return replace(data, records=records, class_names=[SINGLE_CLASS_NAME], category_ids=[1])


def cached_shape(width: int, height: int, size: int) -> tuple[int, int]:
    """``(width, height)`` of an image resized so that its longer side is ``size`` (images
    already smaller are kept as they are)."""
    scale = min(1.0, size / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def cache_bytes(data: DetectionData, size: int) -> int:
    """Bytes the RGB uint8 cache of ``data`` at ``size`` takes (from the recorded sizes)."""
    total = 0
    for record in data.records:
        width, height = record.width or size, record.height or size
        w, h = cached_shape(width, height, size)
        total += w * h * 3
    return total


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_cache_fits(data: DetectionData, size: int, available: int | None) -> int:
    """The cache's size in bytes; raises :class:`CacheTooLarge` when it would not fit."""
    needed = cache_bytes(data, size)
    if available is not None and needed > available * MEMORY_HEADROOM:
        raise CacheTooLarge(
            f"--cache ram needs about {needed / 2**30:.1f} GiB for {len(data.records)} "
            f"images at {size}px, but only {available / 2**30:.1f} GiB of memory is available; "
            "train without --cache, or with a smaller --img-size"
        )
    return needed


class CachedDataset(DetectionDataset):
    """A :class:`DetectionDataset` whose images are decoded and resized once, up front.

    Args:
        max_size: the longer side of the cached images: the largest input size the run
            uses (``img_size``, or the top of the multi-scale range).
        progress: show a progress bar while caching.
        Every other argument is :class:`DetectionDataset`'s.
    """

    def __init__(self, *args, max_size: int, progress: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_size = max_size
        self._cache: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        bar = tqdm(range(len(self)), desc="caching images", disable=not progress, leave=False)
        for index in bar:
            self._cache.append(self._decode(index))

    def _decode(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, boxes, labels = super().load(index)
        height, width = image.shape[:2]
        w, h = cached_shape(width, height, self.max_size)
        if (w, h) != (width, height):
            image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
            boxes = boxes * np.array([w / width, h / height] * 2, np.float32)
        image.setflags(write=False)  # shared by every epoch (and, forked, every worker)
        return image, boxes.astype(np.float32), labels

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cached image (HWC uint8 RGB), boxes (xyxy, cached pixels) and labels."""
        image, boxes, labels = self._cache[index]
        return image, boxes.copy(), labels.copy()  # the image is read-only

    @property
    def nbytes(self) -> int:
        return sum(image.nbytes for image, _, _ in self._cache)
