"""Options and argparse types shared by several ``yolov3`` commands (not a command itself).

Command modules import from here, never from each other.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from yolov3.filekind import (
    CHECKPOINT,
    DARKNET_CFG,
    DARKNET_WEIGHTS,
    NAMES,
    ONNX,
    FileKindError,
    file_kind,
    require_kind,
)

FORMAT_CHOICES = ("yolo", "voc", "coco")
FORMAT_HELP = "yolo (images/ + labels/ + names.txt), voc (Annotations/*.xml), coco (JSON)"


class ExamplesFormatter(argparse.HelpFormatter):
    """Wraps descriptions as argparse does, but keeps an ``example...`` epilog's lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def positive_int(text: str) -> int:
    """argparse type: an integer above 0."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def file_of_kind(*kinds: str) -> Callable[[str], str]:
    """argparse type: an existing file of one of ``kinds`` (see :mod:`yolov3.filekind`)."""

    def check(text: str) -> str:
        path = Path(text)
        if not path.exists():
            raise argparse.ArgumentTypeError(f"{text}: no such file")
        try:
            require_kind(path, *kinds)
        except (FileKindError, OSError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return check


def existing_file(text: str) -> str:
    """argparse type: a file that exists."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return text


def dataset_path(text: str) -> str:
    """argparse type: a dataset folder or file that exists."""
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"{text}: no such dataset folder or file")
    return text


def _names_path(text: str) -> Path:
    return Path(NAMES_FILE(text))


MODEL_FILE = file_of_kind(CHECKPOINT, DARKNET_WEIGHTS)
RUNNABLE_MODEL_FILE = file_of_kind(CHECKPOINT, DARKNET_WEIGHTS, ONNX)
CHECKPOINT_FILE = file_of_kind(CHECKPOINT)
CFG_FILE = file_of_kind(DARKNET_CFG)
NAMES_FILE = file_of_kind(NAMES)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """SOURCE, --format, --split and --names: which dataset to read (shared with anchors)."""
    parser.add_argument("source", type=Path, help="dataset folder (or a COCO JSON file)")
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMAT_CHOICES,
        help=f"source format, detected when left out: {FORMAT_HELP}",
    )
    parser.add_argument(
        "--split",
        help="split to read: images/<split> (yolo), ImageSets/Main/<split>.txt (voc), "
        "annotations/instances_<split>.json (coco)",
    )
    parser.add_argument("--names", type=_names_path, help="class-names file (yolo, voc)")


def input_size(text: str) -> int:
    """argparse type: a network input side, a positive multiple of 32."""
    value = int(text)
    if value <= 0 or value % 32:
        raise argparse.ArgumentTypeError(f"expected a positive multiple of 32, got {value}")
    return value


def fraction(text: str) -> float:
    """argparse type: a threshold between 0 and 1."""
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value:g}")
    return value


def add_model_arguments(
    parser: argparse.ArgumentParser, required: bool = True, onnx: bool = False
) -> None:
    """Options that choose and configure a detector (shared with ``yolov3 val``); with
    ``onnx``, ``--weights`` also takes an ONNX file that ``yolov3 export`` wrote."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--weights",
        required=required,
        type=RUNNABLE_MODEL_FILE if onnx else MODEL_FILE,
        help="a training checkpoint (.pt) or Darknet weights (.weights, with --cfg)"
        + ("; or an ONNX file from `yolov3 export` (run in ONNX Runtime)" if onnx else ""),
    )
    group.add_argument("--cfg", type=CFG_FILE, help="Darknet .cfg for .weights files")
    group.add_argument(
        "--names",
        type=NAMES_FILE,
        help="class names file, one per line (default: the checkpoint's, or a "
        "single *.names beside --cfg with the right number of lines)",
    )
    group.add_argument(
        "--img-size",
        type=input_size,
        default=None,
        help="network input size (default: the checkpoint's training size or the cfg's "
        "width, else 416)",
    )
    group.add_argument(
        "--stretch",
        action="store_true",
        help="resize to a square without keeping the aspect ratio (Darknet/OpenCV demo style) "
        "instead of letterboxing",
    )
    group.add_argument(
        "--device", type=device_option, help="cpu, cuda, cuda:1 ... (default: cuda if available)"
    )
    group.add_argument("--batch-size", type=positive_int, default=8, help="images per forward pass")
    group.add_argument(
        "--half", action="store_true", help="float16 inference (CUDA only; refused on the CPU)"
    )


def build_detector(args: argparse.Namespace, **kwargs: object):
    """The :class:`yolov3.predict.Detector` that the model options describe."""
    command = f"yolov3 {getattr(args, 'command', None) or 'detect'}"
    for flag in ("weights", "cfg", "names"):
        value = getattr(args, flag)
        if value is not None and not Path(value).is_file():
            raise SystemExit(f"{command}: --{flag} {value}: no such file")
    try:
        return _load_detector(args, kwargs)
    except (ValueError, OSError) as exc:  # CheckpointError, DarknetFormatError, sizes, devices
        raise SystemExit(f"{command}: {exc}") from exc


def _load_detector(args: argparse.Namespace, kwargs: dict):
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.devices import resolve_device
    from yolov3.predict import Detector, read_names

    weights = Path(args.weights)
    if file_kind(weights) == ONNX:
        return _onnx_detector(args, kwargs)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    options = {
        "img_size": args.img_size,
        "device": args.device,
        "letterbox": not args.stretch,
        "half": args.half,
    }
    options.update(kwargs)
    if args.half and resolve_device(args.device).type != "cuda":
        raise ValueError("--half runs float16 on CUDA only, and this run is on the CPU")
    if file_kind(weights) == DARKNET_WEIGHTS or args.cfg:
        if not args.cfg:
            raise ValueError(f"{weights} is a Darknet weights file; give its --cfg")
        return Detector.from_darknet(args.cfg, weights, names=args.names, **options)
    if args.names:
        options["class_names"] = read_names(args.names)
    return Detector.from_checkpoint(weights, **options)


def _onnx_detector(args: argparse.Namespace, kwargs: dict):
    # lazy: onnxruntime loads only when a command runs an ONNX file
    from yolov3.predict import read_names
    from yolov3.predict.onnx_runtime import OnnxDetector

    if args.cfg:
        raise ValueError(f"--cfg is for Darknet weights, and {args.weights} is an ONNX model")
    if args.half:
        raise ValueError("--half is for PyTorch models; an ONNX file runs at its own precision")
    return OnnxDetector(
        args.weights,
        img_size=args.img_size,
        class_names=read_names(args.names) if args.names else None,
        letterbox=not args.stretch,
        device=args.device,
        **kwargs,
    )


def device_option(text: str) -> str:
    """argparse type: a device this machine has (``cpu``, ``cuda``, ``cuda:N``)."""
    # lazy: torch loads only when the option is given, so `yolov3 --help` stays fast
    from yolov3.devices import DeviceError, resolve_device

    try:
        resolve_device(text)
    except DeviceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
