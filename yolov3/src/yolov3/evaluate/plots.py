"""PNG figures of an evaluation: precision-recall curves, F1 against threshold, confusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from yolov3.evaluate.coco import RECALL_THRESHOLDS, EvalResult
from yolov3.evaluate.curves import CONF_GRID

# Classes drawn individually on the PR plot; beyond this only the mean is legible.
MAX_CLASS_CURVES = 20


def _figure(size: tuple[float, float] = (7, 5)):
    # lazy: matplotlib (slow to import) only when a plot is drawn
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=size, dpi=120)


def plot_pr_curve(result: EvalResult, path: str | Path) -> Path:
    """Precision against recall at IoU 0.5 (COCO 101-point interpolation), per class and mean."""
    plt, fig, ax = _figure()
    curves = result.precision[0, :, :, 0, -1]  # (R, K) at IoU 0.5, all areas, 100 dets
    defined = [k for k in range(curves.shape[1]) if curves[0, k] > -1]
    for k in defined if len(defined) <= MAX_CLASS_CURVES else []:
        ap50 = result.per_class_ap50[result.class_names[k]]
        ax.plot(RECALL_THRESHOLDS, curves[:, k], lw=1, label=f"{result.class_names[k]} {ap50:.3f}")
    if defined:
        ax.plot(
            RECALL_THRESHOLDS,
            curves[:, defined].mean(1),
            lw=3,
            color="black",
            label=f"all classes AP50 {result.ap50:.3f}",
        )
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"Precision-recall at IoU 0.5 (AP50:95 {result.ap:.3f})",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=7, ncol=2 if len(defined) > 10 else 1)
    return _save(plt, fig, path)


def plot_f1_curve(result: EvalResult, path: str | Path) -> Path:
    """Class-mean precision, recall and F1 against the score threshold."""
    plt, fig, ax = _figure()
    for curve, name in zip(result.f1_curves, ("precision", "recall", "F1"), strict=True):
        ax.plot(CONF_GRID, curve, lw=2 if name == "F1" else 1, label=name)
    best = result.best_f1
    ax.axvline(best.conf, color="grey", ls="--", lw=1)
    ax.set(
        xlabel="score threshold",
        ylabel="class mean",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"Best F1 {best.f1:.3f} at score {best.conf:.3f}",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(plt, fig, path)


def plot_confusion_matrix(
    matrix: np.ndarray, class_names: list[str], path: str | Path, normalize: bool = True
) -> Path:
    """Heat map of :func:`yolov3.evaluate.confusion_matrix` (columns normalised by default)."""
    names = [*class_names, "background"]
    size = min(4 + 0.25 * len(names), 30)
    plt, fig, ax = _figure((size, size * 0.85))
    values = matrix.astype(float)
    if normalize:
        values = values / np.maximum(values.sum(0, keepdims=True), 1)
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ticks = np.arange(len(names))
    fontsize = 8 if len(names) <= 30 else 5
    ax.set_xticks(ticks, names, rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, names, fontsize=fontsize)
    if len(names) <= 12:
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                f"{v:.2f}" if normalize else str(int(v)),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v > values.max() / 2 else "black",
            )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title="Confusion matrix" + ("\n(each column sums to 1)" if normalize else ""),
    )
    return _save(plt, fig, path)


def _save(plt, fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
