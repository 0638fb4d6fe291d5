"""Train YOLOv3-tiny on the raccoon dataset for a fixed CPU time budget, in up to three arms.

1. ``defaults``: fine-tuned from the official COCO weights (``darknet/yolov3-tiny.weights``)
   with the CLI's defaults: exactly ``yolov3 train --data D --arch yolov3-tiny --weights W
   --time-budget-min M`` (every other setting derived from the data);
2. ``recipe``: fine-tuned from the same weights with the hand-set small-data recipe below;
3. ``scratch``: the recipe from random weights.

Split: ``raccoon-N`` with N divisible by 5 is validation (40 images), the rest training
(160). Prints validation AP50 (COCO-style, EMA weights), training images/s and the load
average of each arm, and draws their curves to ``<out>/curves.png``. ``make bench-train``
runs the full 15-minute budget; ``--minutes 2`` is a smoke run.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from dataclasses import replace
from pathlib import Path

import torch

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def write_split(out: Path) -> Path:
    """The raccoon VOC folder as YOLO txt with train/val splits (images symlinked)."""
    from yolov3.data import read_dataset, write_dataset

    data = read_dataset(SHARED / "raccoon", "voc")
    number = re.compile(r"raccoon-(\d+)$")

    def is_val(record) -> bool:
        match = number.search(record.path.stem)
        if match is None:
            raise ValueError(f"{record.path}: expected a name like raccoon-N")
        return int(match.group(1)) % 5 == 0

    val = [r for r in data.records if is_val(r)]
    train = [r for r in data.records if not is_val(r)]
    for split, records in (("train", train), ("val", val)):
        write_dataset(replace(data, records=records), out, "yolo", split=split, images="link")
    print(f"raccoon split: {len(train)} training, {len(val)} validation images -> {out}")
    return out


def defaults_config(data: Path, out: Path, args: argparse.Namespace, weights: Path):
    """The TrainConfig ``yolov3 train`` builds from only --data, --arch and --weights (and
    the budget; --out and --no-progress do not change the training)."""
    from yolov3.cli import build_parser
    from yolov3.cli.train import build_train_config

    argv = ["train", "--data", str(data), "--arch", "yolov3-tiny", "--weights", str(weights)]
    argv += ["--time-budget-min", f"{args.minutes:g}", "--out", str(out)]
    argv += ["--no-progress"] if args.no_progress else []
    return build_train_config(build_parser().parse_args(argv))


def recipe_config(data: Path, out: Path, args: argparse.Namespace, weights: Path | None):
    """The hand-set small-data recipe (every setting explicit)."""
    from yolov3.config import TrainConfig

    return TrainConfig(
        data=str(data),
        img_size=args.img_size,
        epochs=1000,  # re-planned after every epoch to fit the time budget
        time_budget_min=args.minutes,
        batch_size=args.batch_size,
        nominal_batch=args.batch_size,  # 160 images: more, smaller steps train faster
        optimizer="sgd",
        lr0=args.lr,
        burn_in="linear",
        burn_in_epochs=2.0,
        ema_tau=200.0,
        freeze_epochs=1 if weights else 0,
        weights=str(weights) if weights else None,
        workers=args.workers,
        val_interval=args.val_interval,
        progress=not args.no_progress,
        out=str(out),
    )


ARMS = ("defaults", "recipe", "scratch")


def plot(runs: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_ap, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    for name, history in runs.items():
        elapsed = [
            sum(float(r["seconds"]) for r in history[: i + 1]) / 60 for i in range(len(history))
        ]
        val = [
            (t, float(r["val_ap50"]))
            for t, r in zip(elapsed, history, strict=True)
            if r["val_ap50"] != ""
        ]
        ax_ap.plot(*zip(*val, strict=True), marker="o", label=name)
        ax_loss.plot(elapsed, [float(r["total"]) for r in history], marker=".", label=name)
    ax_ap.set(xlabel="training minutes", ylabel="val AP50 (raccoon, 40 images)", ylim=(0, 1))
    ax_loss.set(xlabel="training minutes", ylabel="training loss per image", yscale="log")
    for ax in (ax_ap, ax_loss):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_arm(name: str, data: Path, out: Path, args: argparse.Namespace, weights: Path):
    """Train one arm; returns (summary row, history)."""
    from yolov3.train import fit

    if name == "defaults":
        config = defaults_config(data, out / name, args, weights)
    else:
        start = weights if name == "recipe" else None
        config = recipe_config(data, out / name, args, start)
    print(f"== {name}: {args.minutes:g} minutes, YOLOv3-tiny, load average {_load()}")
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = fit(config, arch="yolov3-tiny")
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    history = result["history"]
    speed = sum(float(r["images_per_s"]) for r in history) / len(history)
    finals = [float(r["val_ap50"]) for r in history if r["val_ap50"] != ""]
    row = (result["best_ap50"], finals[-1], speed, len(history), wall, cpu, _load())
    return row, history


def settings_gap(data: Path, out: Path, args: argparse.Namespace, weights: Path) -> str:
    """The training settings in which the CLI defaults (as derived for this split on the
    CPU) differ from the recipe; the run folder and progress bars aside."""
    from yolov3.config import derive_config
    from yolov3.data import read_dataset

    sizes = [len(read_dataset(data, "yolo", split).records) for split in ("train", "val")]
    defaults = derive_config(defaults_config(data, out, args, weights), *sizes, "cpu")
    recipe = recipe_config(data, out, args, weights).to_dict()
    ignored = {"out", "progress", "derived"}
    gaps = [
        f"{k} {v!r} (recipe {recipe[k]!r})"
        for k, v in defaults.to_dict().items()
        if k not in ignored and v != recipe[k]
    ]
    return "; ".join(gaps) or "none"


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _arms(text: str) -> list[str]:
    arms = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise argparse.ArgumentTypeError(f"expected arms from {', '.join(ARMS)}, got {text!r}")
    return arms


def print_table(results: dict[str, tuple]) -> None:
    row = "{:<9} {:>9} {:>10} {:>6} {:>6} {:>8} {:>12}  {}"
    print(
        row.format(
            "arm",
            "best AP50",
            "final AP50",
            "img/s",
            "epochs",
            "wall min",
            "CPU min main",
            "load average at end",
        )
    )
    for name, (best, final, speed, epochs, wall, cpu, load) in results.items():
        cells = (f"{best:.3f}", f"{final:.3f}", f"{speed:.1f}", epochs, f"{wall / 60:.1f}")
        print(row.format(name, *cells, f"{cpu / 60:.1f}", load))
    if "defaults" in results and "recipe" in results:
        gap = results["defaults"][0] - results["recipe"][0]
        print(f"defaults - recipe: {gap:+.3f} best AP50")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=15.0, help="budget per run (default 15)")
    parser.add_argument("--img-size", type=int, default=320, help="recipe: input size")
    parser.add_argument("--batch-size", type=int, default=16, help="recipe: batch size")
    parser.add_argument("--lr", type=float, default=0.01, help="recipe: peak SGD learning rate")
    parser.add_argument("--workers", type=int, default=2, help="recipe: loader processes")
    parser.add_argument("--val-interval", type=int, default=2, help="recipe: validate every k")
    parser.add_argument("--out", default="runs/bench-train", help="output folder")
    parser.add_argument(
        "--arms",
        type=_arms,
        default=list(ARMS),
        help=f"comma-separated arms to run, in order (default: {','.join(ARMS)})",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    weights = SHARED / "darknet" / "yolov3-tiny.weights"
    if not (SHARED / "raccoon").is_dir() or not weights.is_file():
        print(f"skipped: {SHARED}/raccoon or {weights} not found")
        return 0
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    out = Path(args.out)
    data = write_split(out / "raccoon")
    gap = settings_gap(data, out, args, weights)
    print(f"settings of the CLI defaults that differ from the recipe: {gap}")
    results, histories = {}, {}
    for name in args.arms:
        results[name], histories[name] = run_arm(name, data, out, args, weights)
    print()
    print_table(results)
    plot(histories, out / "curves.png")
    print(f"curves: {out / 'curves.png'}; runs: {', '.join(str(out / a) for a in args.arms)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
