"""``yolov3`` command line: argparse sub-commands that only call library functions.

Each area registers its sub-commands from its own module in this package.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

# Modules in this package that define ``register(subparsers)``.
COMMAND_MODULES = ("demo",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yolov3",
        description="YOLOv3 from scratch: data tools, training, prediction and evaluation.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"yolov3.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
