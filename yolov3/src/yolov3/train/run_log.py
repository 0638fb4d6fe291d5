"""What a training run records: a CSV row per epoch, TensorBoard scalars and results.png."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

COLUMNS = (
    "epoch",
    "lr",
    "box",
    "obj",
    "cls",
    "total",
    "skipped",
    "images_per_s",
    "val_ap50",
    "val_ap",
    "seconds",
)


class RunLog:
    """Appends epoch rows to ``results.csv``, mirrors them to TensorBoard, draws ``results.png``.

    Only the main process creates one. ``history`` holds every row so far, including rows
    carried over from a resumed run.
    """

    def __init__(
        self,
        out: str | Path,
        history: list[dict[str, Any]] | None = None,
        tensorboard: bool = True,
        plot_every_s: float = 60.0,
    ) -> None:
        self.plot_every_s = plot_every_s
        self._plotted_at = time.monotonic()
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.history = list(history or [])
        self.csv_path = self.out / "results.csv"
        self._rewrite_csv()
        self.writer = None
        if tensorboard:
            # lazy: tensorboard (slow to import) only on the main process of a run
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(self.out / "tensorboard"))

    def _rewrite_csv(self) -> None:
        with self.csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.history)

    def log_epoch(self, row: dict[str, Any]) -> None:
        self.history.append(row)
        with self.csv_path.open("a", newline="", encoding="utf-8") as handle:
            csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore").writerow(row)
        if self.writer is not None:
            step = int(row["epoch"])
            for key in ("box", "obj", "cls", "total"):
                self.writer.add_scalar(f"train/{key}", row[key], step)
            self.writer.add_scalar("train/lr", row["lr"], step)
            self.writer.add_scalar("train/skipped_steps", row["skipped"], step)
            self.writer.add_scalar("train/images_per_s", row["images_per_s"], step)
            if row.get("val_ap50") not in (None, ""):
                self.writer.add_scalar("val/AP50", row["val_ap50"], step)
                self.writer.add_scalar("val/AP50_95", row["val_ap"], step)
            self.writer.flush()
        if time.monotonic() - self._plotted_at > self.plot_every_s:
            self.plot()

    def plot(self) -> Path:
        """Redraw ``results.png`` (every ``plot_every_s`` at most while training; at the end)."""
        self._plotted_at = time.monotonic()
        return plot_results(self.history, self.out / "results.png")

    def close(self) -> None:
        if self.history:
            self.plot()
        if self.writer is not None:
            self.writer.close()


def plot_results(history: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Loss curves and validation AP per epoch, as a PNG."""
    # lazy: matplotlib (slow to import) only when results.png is drawn
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_ap) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = [int(r["epoch"]) for r in history]
    for key in ("box", "obj", "cls", "total"):
        ax_loss.plot(epochs, [float(r[key]) for r in history], label=key, marker=".")
    ax_loss.set(xlabel="epoch", ylabel="training loss (per image)", yscale="log")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    val = [r for r in history if r.get("val_ap50") not in (None, "")]
    if val:
        ax_ap.plot(
            [int(r["epoch"]) for r in val],
            [float(r["val_ap50"]) for r in val],
            label="AP50",
            marker="o",
        )
        ax_ap.plot(
            [int(r["epoch"]) for r in val],
            [float(r["val_ap"]) for r in val],
            label="AP50:95",
            marker="o",
        )
        ax_ap.legend()
    ax_ap.set(xlabel="epoch", ylabel="validation AP (EMA weights)", ylim=(0, 1))
    ax_ap.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def validations_since_best(history: list[dict[str, Any]]) -> int:
    """Validations logged after the first one with the best AP50 (all of them if none)."""
    scores = [float(r["val_ap50"]) for r in history if r.get("val_ap50", "") != ""]
    if not scores:
        return 0
    return len(scores) - 1 - scores.index(max(scores))


def epoch_line(row: dict[str, Any], epochs: int) -> str:
    val = f"  AP50 {row['val_ap50']:.3f}  AP {row['val_ap']:.3f}" if row["val_ap50"] != "" else ""
    skipped = f"  skipped {row['skipped']}" if row["skipped"] else ""
    return (
        f"epoch {row['epoch']}/{epochs}  loss {row['total']:.4f} (box {row['box']:.4f} "
        f"obj {row['obj']:.4f} cls {row['cls']:.4f})  lr {row['lr']:.2e}  "
        f"{row['images_per_s']:.1f} img/s{val}{skipped}  {row['seconds']:.0f}s"
    )
