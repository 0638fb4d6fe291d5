"""``yolov3`` command line: argparse sub-commands that only call library functions.

Every module in this package that defines ``register(subparsers)`` adds its sub-commands.
Modules import heavy libraries inside their handlers, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Sequence

EXAMPLES = """\
examples:
  yolov3 demo                                     train and evaluate on a generated dataset
  yolov3 data check data/raccoon                  list every problem in a dataset
  yolov3 data split data/my-voc --val 0.2         write stratified train/val split lists
  yolov3 train --arch yolov3-tiny --data data/raccoon --val-fraction 0.2 \\
      --weights yolov3-tiny.weights
  yolov3 detect photos/ --weights runs/train/exp/best.pt
  yolov3 val --data data/coco128 --split val2017 --weights best.pt --pycocotools
  yolov3 export runs/train/exp/best.pt --format onnx

Run `yolov3 COMMAND --help` for the options of one command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yolov3",
        description="YOLOv3 from scratch: data tools, training, prediction and evaluation.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
