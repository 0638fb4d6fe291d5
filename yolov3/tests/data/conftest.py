"""Tiny synthetic datasets, written into ``tmp_path`` by the tests that need them."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_fixtures import NAMES, write_image


@pytest.fixture
def yolo_root(tmp_path: Path) -> Path:
    """A YOLO txt dataset: a.jpg (64x48, two boxes), b.png (40x40, one box), c.jpg (empty
    label file) and d.jpg (no label file)."""
    root = tmp_path / "yolo"
    write_image(root / "images" / "a.jpg", 64, 48, 1)
    write_image(root / "images" / "b.png", 40, 40, 2)
    write_image(root / "images" / "c.jpg", 32, 32, 3)
    write_image(root / "images" / "d.jpg", 32, 64, 4)
    labels = root / "labels"
    labels.mkdir()
    # a: cat at x 8..40, y 12..36; bird at x 32..64, y 0..24
    (labels / "a.txt").write_text("0 0.375 0.5 0.5 0.5\n2 0.75 0.25 0.5 0.5\n")
    # b: dog at x 4..24, y 10..30
    (labels / "b.txt").write_text("1 0.35 0.5 0.5 0.5\n")
    (labels / "c.txt").write_text("")
    (root / "names.txt").write_text("".join(f"{n}\n" for n in NAMES))
    return root
