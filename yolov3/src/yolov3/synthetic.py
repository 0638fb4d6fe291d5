"""A seeded procedural detection dataset: coloured shapes on textured backgrounds.

``write_shapes_dataset(out, ...)`` writes a YOLO txt folder (``images/<split>/``,
``labels/<split>/``, ``names.txt``) that ``yolov3.data.read_dataset`` loads. The same seed
always gives the same pixels and boxes, so the demo and tests are reproducible without any
download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SHAPES = ("circle", "square", "triangle", "cross")


@dataclass(frozen=True)
class ShapesSpec:
    """What the generator draws.

    Attributes:
        image_size: side of the square images in pixels.
        min_objects, max_objects: shapes per image (inclusive).
        min_size, max_size: shape side in pixels (inclusive).
        max_overlap: largest IoU allowed between two shapes of one image.
    """

    image_size: int = 256
    min_objects: int = 1
    max_objects: int = 4
    min_size: int = 24
    max_size: int = 96
    max_overlap: float = 0.1


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured RGB background: smooth noise, plus stripes or a checkerboard, plus grain."""
    base = rng.uniform(40, 215, size=3)
    coarse = rng.normal(0, 1, size=(8, 8, 3)).astype(np.float32)
    noise = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC) * rng.uniform(10, 35)
    img = base + noise
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    kind = rng.integers(3)
    if kind == 0:  # stripes at a random angle
        angle, period = rng.uniform(0, np.pi), rng.uniform(8, 32)
        wave = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
        img += wave[..., None] * rng.uniform(8, 25, size=3)
    elif kind == 1:  # checkerboard
        cell = int(rng.integers(8, 33))
        check = ((xx // cell + yy // cell) % 2 * 2 - 1).astype(np.float32)
        img += check[..., None] * rng.uniform(8, 25, size=3)
    img += rng.normal(0, 6, size=img.shape)  # grain
    return np.clip(img, 0, 255).astype(np.uint8)


def _contrasting_colour(rng: np.random.Generator, background: np.ndarray) -> tuple[int, ...]:
    mean = background.reshape(-1, 3).mean(0)
    for _ in range(20):
        colour = rng.integers(0, 256, size=3)
        if np.abs(colour - mean).sum() > 180:
            break
    return tuple(int(c) for c in colour)


def _draw(img: np.ndarray, shape: str, box: np.ndarray, colour: tuple[int, ...]) -> None:
    x1, y1, x2, y2 = (int(v) for v in np.round(box))
    w, h = x2 - x1, y2 - y1
    if shape == "circle":
        cv2.ellipse(img, ((x1 + x2) // 2, (y1 + y2) // 2), (w // 2, h // 2), 0, 0, 360, colour, -1)
    elif shape == "square":
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), colour, -1)
    elif shape == "triangle":
        pts = np.array([[(x1 + x2) // 2, y1], [x2 - 1, y2 - 1], [x1, y2 - 1]], np.int32)
        cv2.fillPoly(img, [pts], colour)
    else:  # cross: two bars a third of the box thick
        t = max(2, w // 3), max(2, h // 3)
        cv2.rectangle(img, (x1, y1 + (h - t[1]) // 2), (x2 - 1, y1 + (h + t[1]) // 2), colour, -1)
        cv2.rectangle(img, (x1 + (w - t[0]) // 2, y1), (x1 + (w + t[0]) // 2, y2 - 1), colour, -1)


def _iou(box: np.ndarray, others: list[np.ndarray]) -> float:
    if not others:
        return 0.0
    o = np.stack(others)
    lt, rb = np.maximum(box[:2], o[:, :2]), np.minimum(box[2:], o[:, 2:])
    inter = np.clip(rb - lt, 0, None).prod(1)
    union = (box[2:] - box[:2]).prod() + (o[:, 2:] - o[:, :2]).prod(1) - inter
    return float((inter / union).max())


def render_image(
    rng: np.random.Generator, spec: ShapesSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image: ``(RGB uint8 [S, S, 3], boxes float [N, 4] xyxy pixels, labels int [N])``."""
    s = spec.image_size
    img = _background(rng, s)
    boxes: list[np.ndarray] = []
    labels: list[int] = []
    wanted = int(rng.integers(spec.min_objects, spec.max_objects + 1))
    for _ in range(wanted * 10):
        if len(boxes) == wanted:
            break
        side = rng.uniform(spec.min_size, spec.max_size)
        w, h = side * rng.uniform(0.75, 1.33, size=2)
        w, h = min(w, s - 2), min(h, s - 2)
        x1, y1 = rng.uniform(0, s - w), rng.uniform(0, s - h)
        box = np.round([x1, y1, x1 + w, y1 + h])
        if _iou(box, boxes) > spec.max_overlap:
            continue
        label = int(rng.integers(len(SHAPES)))
        _draw(img, SHAPES[label], box, _contrasting_colour(rng, img))
        boxes.append(box)
        labels.append(label)
    return img, np.array(boxes, dtype=np.float64).reshape(-1, 4), np.array(labels, dtype=np.int64)


def write_shapes_dataset(
    out: str | Path,
    splits: dict[str, int] | None = None,
    spec: ShapesSpec | None = None,
    seed: int = 0,
) -> Path:
    """Write the dataset as YOLO txt under ``out`` and return ``out``.

    Args:
        out: destination folder (created; existing files of the same names are replaced).
        splits: images per split, default ``{"train": 400, "val": 100}``. Each split draws
            from its own seeded stream, so changing one split's size leaves the others alone.
        spec: what to draw.
        seed: base seed.
    """
    out = Path(out)
    spec = spec or ShapesSpec()
    splits = splits or {"train": 400, "val": 100}
    (out / "names.txt").parent.mkdir(parents=True, exist_ok=True)
    (out / "names.txt").write_text("".join(f"{n}\n" for n in SHAPES), encoding="utf-8")
    for index, (split, count) in enumerate(splits.items()):
        rng = np.random.default_rng([seed, index])
        images, labels = out / "images" / split, out / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            img, boxes, classes = render_image(rng, spec)
            name = f"{split}_{i:05d}"
            cv2.imwrite(str(images / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            s = spec.image_size
            cxcy = (boxes[:, :2] + boxes[:, 2:]) / 2 / s
            wh = (boxes[:, 2:] - boxes[:, :2]) / s
            lines = [
                f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n"
                for c, (x, y), (w, h) in zip(classes, cxcy, wh, strict=True)
            ]
            (labels / f"{name}.txt").write_text("".join(lines), encoding="utf-8")
    return out
