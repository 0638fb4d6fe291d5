"""``yolov3 demo``: the detector's self-contained main job."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="generate a toy dataset, train YOLOv3-tiny on it, evaluate and draw predictions",
        description=(
            "Generate a seeded procedural detection dataset, train YOLOv3-tiny on it on the "
            "CPU, evaluate it on a held-out split and write predictions and a report."
        ),
    )
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(
        "yolov3 demo: will generate a procedural dataset, train YOLOv3-tiny on the CPU, "
        f"evaluate it and write predictions to {args.out}/ (not implemented yet)."
    )
    return 0
