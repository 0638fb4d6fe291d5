"""Helpers that write tiny synthetic images and datasets for the data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

NAMES = ["cat", "dog", "bird"]


def write_image(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A small noisy RGB image (PNG keeps pixels exact, JPEG tests the usual case)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path
