"""Describe a dataset: images, boxes per class, box sizes and aspect ratios."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yolov3.data.records import DetectionData

# COCO's size buckets, by box area in original pixels.
SMALL, LARGE = 32**2, 96**2


@dataclass
class DatasetStats:
    """Figures of one dataset.

    Attributes:
        class_names: index = class id.
        images: number of images; ``empty_images``: those without boxes.
        boxes_per_class (np.ndarray[C]), images_per_class (np.ndarray[C]): counts.
        labels (np.ndarray[N]): class of every box (unknown classes dropped).
        wh (np.ndarray[N, 2]): box width and height in original pixels.
        input_wh (np.ndarray[N, 2]): the same after letterboxing to ``img_size``.
        img_size: the input size of ``input_wh``.
    """

    class_names: list[str]
    images: int
    empty_images: int
    boxes_per_class: np.ndarray
    images_per_class: np.ndarray
    labels: np.ndarray
    wh: np.ndarray
    input_wh: np.ndarray
    img_size: int

    @property
    def aspect(self) -> np.ndarray:
        """Width / height of each box."""
        return self.wh[:, 0] / np.maximum(self.wh[:, 1], 1e-9)

    def table(self) -> str:
        """A plain-text report: totals, size buckets, aspect quantiles, one row per class."""
        n = len(self.labels)
        area = self.wh.prod(axis=1)
        medium = ((area >= SMALL) & (area < LARGE)).sum()
        buckets = [(area < SMALL).sum(), medium, (area >= LARGE).sum()]
        lines = [
            f"images            {self.images} ({self.empty_images} without boxes)",
            f"boxes             {n} ({n / max(self.images, 1):.2f} per image)",
            f"classes           {len(self.class_names)} "
            f"({int((self.boxes_per_class == 0).sum())} without boxes)",
            "box area          small <32^2: {} | medium: {} | large >=96^2: {}".format(*buckets),
        ]
        if n:
            q = np.quantile(self.aspect, [0.05, 0.5, 0.95])
            s = np.quantile(np.sqrt(self.input_wh.prod(axis=1)), [0.05, 0.5, 0.95])
            lines += [
                f"aspect w/h        p5 {q[0]:.2f} | median {q[1]:.2f} | p95 {q[2]:.2f}",
                f"sqrt(area) @{self.img_size:<4} p5 {s[0]:.1f} | median {s[1]:.1f} | "
                f"p95 {s[2]:.1f} px",
            ]
        size = f"median w x h @{self.img_size}"
        lines += ["", f"{'id':>4}  {'class':<20}{'boxes':>8}{'images':>8}{size:>20}"]
        for i, name in enumerate(self.class_names):
            sel = self.input_wh[self.labels == i]
            med = f"{np.median(sel[:, 0]):.0f} x {np.median(sel[:, 1]):.0f}" if len(sel) else "-"
            lines.append(
                f"{i:>4}  {name[:20]:<20}{self.boxes_per_class[i]:>8}"
                f"{self.images_per_class[i]:>8}{med:>20}"
            )
        return "\n".join(lines)


def compute_stats(data: DetectionData, img_size: int = 416) -> DatasetStats:
    """Count and measure every box of ``data`` (boxes of unknown classes are left out)."""
    c = data.num_classes
    boxes_per_class = np.zeros(c, np.int64)
    images_per_class = np.zeros(c, np.int64)
    labels, wh, input_wh = [], [], []
    empty = 0
    for record in data.records:
        keep = (record.labels >= 0) & (record.labels < c)
        lab, box = record.labels[keep], record.boxes[keep]
        empty += len(lab) == 0
        np.add.at(boxes_per_class, lab, 1)
        images_per_class[np.unique(lab)] += 1
        size = box[:, 2:] - box[:, :2]
        scale = img_size / max(record.width, record.height, 1)
        labels.append(lab)
        wh.append(size)
        input_wh.append(size * scale)
    return DatasetStats(
        list(data.class_names),
        len(data.records),
        empty,
        boxes_per_class,
        images_per_class,
        np.concatenate(labels) if labels else np.zeros(0, np.int64),
        np.concatenate(wh) if wh else np.zeros((0, 2)),
        np.concatenate(input_wh) if input_wh else np.zeros((0, 2)),
        img_size,
    )


def plot_stats(stats: DatasetStats, path: Path) -> None:
    """Write a 2x2 PNG: boxes per class, box shapes, box sizes and aspect ratios."""
    # lazy: matplotlib (slow to import) only when the stats are plotted
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    ax = axes[0, 0]
    order = np.argsort(-stats.boxes_per_class)[:40]
    ax.bar(range(len(order)), stats.boxes_per_class[order], color="tab:blue")
    ax.set_xticks(range(len(order)), [stats.class_names[i] for i in order], rotation=90)
    ax.set_ylabel("boxes")
    top = f"top {len(order)} " if len(order) < len(stats.class_names) else ""
    ax.set_title(f"boxes per class {top}({len(stats.labels)} boxes, {stats.images} images)")
    ax = axes[0, 1]
    if len(stats.input_wh):
        ax.scatter(stats.input_wh[:, 0], stats.input_wh[:, 1], s=4, alpha=0.3, color="tab:blue")
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(f"width @{stats.img_size} (px)")
    ax.set_ylabel(f"height @{stats.img_size} (px)")
    ax.set_title("box shapes after letterboxing")
    ax = axes[1, 0]
    ax.hist(np.sqrt(stats.input_wh.prod(axis=1)), bins=50, color="tab:green")
    ax.set_xlabel(f"sqrt(box area) @{stats.img_size} (px)")
    ax.set_ylabel("boxes")
    ax.set_title("box sizes")
    ax = axes[1, 1]
    ax.hist(np.log2(np.clip(stats.aspect, 1e-3, None)), bins=50, color="tab:orange")
    ax.set_xlabel("log2(width / height)")
    ax.set_ylabel("boxes")
    ax.set_title("box aspect ratios")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
