"""``yolov3 demo``: the detector's self-contained main job."""

from __future__ import annotations

import argparse
from dataclasses import replace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="generate a toy dataset, train YOLOv3-tiny on it, evaluate and draw predictions",
        description=(
            "Generate a seeded procedural detection dataset (coloured shapes on textured "
            "backgrounds), train YOLOv3-tiny on it on the CPU, evaluate it on a held-out "
            "split and write annotated predictions, the PR curve and report.md to --out. "
            "With --data (and --weights) it fine-tunes on a real dataset instead."
        ),
    )
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs")
    parser.add_argument("--seed", type=int, default=0, help="dataset and training seed")
    parser.add_argument(
        "--quick", action="store_true", help="a small smoke run (under a minute; low AP)"
    )
    parser.add_argument(
        "--data", default=None, help="a real dataset with train and val splits to fine-tune on"
    )
    parser.add_argument("--train-split", default="train", help="with --data (default: train)")
    parser.add_argument("--val-split", default="val", help="with --data (default: val)")
    parser.add_argument("--img-size", type=int, default=None, help="network input size")
    parser.add_argument(
        "--weights", default=None, help="initial weights: a Darknet .weights or a .pt checkpoint"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--exist-ok",
        action="store_true",
        help="train again into --out's existing train/ folder (its run is replaced)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.demo import QUICK, DemoPlan, run_demo
    from yolov3.train import RunFolderError

    plan = QUICK if args.quick else DemoPlan()
    plan = replace(plan, seed=args.seed)
    if args.epochs is not None:
        plan = replace(plan, epochs=args.epochs)
    if args.img_size is not None:
        plan = replace(plan, train_size=args.img_size)
    overrides = {"exist_ok": True} if args.exist_ok else {}
    if args.data is not None:
        overrides.update(train_split=args.train_split, val_split=args.val_split)
    try:
        summary = run_demo(
            args.out,
            plan,
            data=args.data,
            weights=args.weights,
            progress=not args.no_progress,
            **overrides,
        )
    except RunFolderError as exc:
        raise SystemExit(f"yolov3 demo: {exc} (or give another --out)") from None
    except (ValueError, OSError) as exc:  # DatasetError, CheckpointError, unreadable files
        raise SystemExit(f"yolov3 demo: {exc}") from None
    print(summary["table"])
    print(
        f"held-out AP50 {summary['ap50']:.3f} (AP50:95 {summary['ap']:.3f}) after "
        f"{summary['train_seconds'] / 60:.1f} min of training; report: {summary['report']}"
    )
    return 0
