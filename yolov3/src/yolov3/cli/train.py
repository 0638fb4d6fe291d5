"""``yolov3 train``: train or fine-tune a detector (also under ``torchrun`` for DDP)."""

from __future__ import annotations

import argparse
import dataclasses
import typing

from yolov3.cli.options import CHECKPOINT_FILE, MODEL_FILE, device_option
from yolov3.config import TrainConfig

EXAMPLES = """\
examples:
  yolov3 train --data ../shared/data/coco128 --val-split val2017 --train-split train2017 \\
      --arch yolov3-tiny --epochs 50 --batch-size 16
  yolov3 train --data raccoon/ --val-fraction 0.2 --weights yolov3-tiny.weights \\
      --weights-cutoff 0 --freeze-epochs 2 --arch yolov3-tiny
  yolov3 train --resume runs/train/exp/last.pt
  yolov3 train --resume runs/train/exp/last.pt --epochs 150   # extend a finished run
  torchrun --nproc_per_node 4 -m yolov3 train --data coco/ --batch-size 16
  yolov3 train --data d/ --set box_loss=giou --set label_smoothing=0.1
  yolov3 train --data raccoon/ --arch yolov3-tiny --weights yolov3-tiny.weights \\
      --time-budget-min 15 --patience 10 --cache ram

Settings marked "derived" are chosen from the dataset size, the epochs or time budget and
--weights when the run starts (printed then, and saved in the run's checkpoints); giving
one explicitly always wins.
"""

# Options with their own flag; every other TrainConfig field is reachable through --set.
_FLAGS = {
    "data": "dataset folder or file (YOLO txt, VOC or COCO JSON)",
    "data_format": "force the format: yolo, voc or coco (default: detect)",
    "train_split": "split to train on, e.g. train or train2017 ('none' = whole dataset)",
    "val_data": "validation dataset (default: --data)",
    "val_split": "validation split ('none' = whole validation dataset)",
    "val_fraction": "hold out this fraction of --data (without splits) for validation, "
    "stratified by class and seeded by --seed; listed in the run's split.json",
    "img_size": "input size in pixels, a multiple of 32",
    "epochs": "passes over the training set",
    "time_budget_min": "re-plan the epochs to end after this many minutes",
    "batch_size": "images per forward pass and process",
    "nominal_batch": "accumulate gradients up to this many images per optimizer step",
    "optimizer": "sgd (Nesterov), adam or adamw",
    "lr0": "peak learning rate after burn-in",
    "workers": "data-loading processes per rank",
    "project": "parent of numbered run folders",
    "name": "run folder name under --project: NAME, NAME2, NAME3... (the first free one)",
    "out": "explicit run folder instead of --project/--name; must be new or empty",
    "seed": "random seed",
    "weights": "start from a .pt checkpoint or Darknet .weights",
    "weights_cutoff": "Darknet weights: load only layers 0..N-1; 0 = exactly the backbone",
    "freeze_epochs": "keep the backbone frozen for the first N epochs",
    "val_interval": "validate every k epochs",
    "patience": "stop when validation AP50 has not improved for N validations (0 = never)",
    "save_period": "also keep epochN.pt every N epochs (0 = only last.pt and best.pt)",
    "cache": "ram: keep the decoded, resized training images in memory",
    "box_loss": "ciou, giou or mse",
}


def _field_types() -> dict[str, typing.Any]:
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig)}


def _parse_value(name: str, text: str, kind: typing.Any) -> typing.Any:
    """Convert ``text`` to the type of TrainConfig field ``name``."""
    if text.lower() == "none" and "None" in str(kind):
        return None
    base = str(kind)
    try:
        if "bool" in base:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if "tuple" in base:
            return tuple(float(v) for v in text.split(",") if v)
        if "int" in base and "float" not in base:
            return int(text)
        if "float" in base:
            return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}={text!r}: expected {base}") from None
    return text


def _flag_type(name: str, types: dict[str, typing.Any]) -> typing.Callable[[str], typing.Any]:
    """argparse type for a TrainConfig flag: its field's type and range, checked at parse time."""

    def convert(text: str) -> typing.Any:
        if name == "weights":
            return MODEL_FILE(text)
        value = _parse_value(name, text, types[name])
        try:
            TrainConfig(**{name: value})
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return convert


def _override(item: str) -> tuple[str, typing.Any]:
    """argparse type for ``--set KEY=VALUE``: a known field, a value of its type and range."""
    if isinstance(item, tuple):
        return item
    types = _field_types()
    del types["derived"]  # written by the run, not set
    key, sep, text = item.partition("=")
    if not sep or key not in types:
        raise argparse.ArgumentTypeError(
            f"{item!r}: expected KEY=VALUE with KEY one of: {', '.join(sorted(types))}"
        )
    value = _parse_value(key, text, types[key])
    if key != "aug":
        try:
            TrainConfig(**{key: value})
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(f"{item!r}: {exc}") from None
    return key, value


# How the fields left to the data are chosen (yolov3.config.derive_config), for --help.
_DERIVED_HELP = {
    "img_size": "320 for a time-budgeted CPU run, else 416",
    "nominal_batch": "images/8 as a power of two, 16..64",
    "freeze_epochs": "1 with --weights, else 0",
    "val_interval": "from the validation/training sizes",
}


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per :data:`_FLAGS` field, checked against TrainConfig when parsed."""
    defaults, types = TrainConfig(), _field_types()
    for name, text in _FLAGS.items():
        if name in _DERIVED_HELP:
            shown = f"derived: {_DERIVED_HELP[name]}"
        else:
            default = getattr(defaults, name)
            shown = "none" if default in (None, "") else default
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            help=f"{text} (default: {shown})",
            type=_flag_type(name, types),
        )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train or fine-tune YOLOv3 / YOLOv3-tiny on a dataset",
        description=(
            "Train a detector. Writes last.pt, best.pt (best validation AP50 of the EMA "
            "weights), results.csv, results.png, train_batch0.jpg (the first batch with its "
            "boxes) and TensorBoard scalars to --out. Under torchrun it trains with "
            "DistributedDataParallel."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--arch", default=None, choices=("yolov3", "yolov3-tiny"), help="(default: yolov3)"
    )
    _add_config_flags(parser)
    parser.add_argument(
        "--exist-ok", action="store_true", help="write into an existing run folder on purpose"
    )
    parser.add_argument("--multi-scale", action="store_true", help="vary the input size per batch")
    parser.add_argument("--no-augment", action="store_true", help="no data augmentation")
    parser.add_argument(
        "--single-cls", action="store_true", help='train every class as one class, "object"'
    )
    parser.add_argument("--mosaic", action="store_true", help="4-image mosaic augmentation")
    parser.add_argument("--no-amp", action="store_true", help="full precision on CUDA")
    parser.add_argument(
        "--device",
        type=device_option,
        default=None,
        help="cpu, cuda or cuda:N (default: CUDA if any; under torchrun each process uses the "
        "GPU of its LOCAL_RANK)",
    )
    parser.add_argument(
        "--resume",
        default=None,
        type=CHECKPOINT_FILE,
        help="continue a run exactly from its last.pt, in that file's folder; only --epochs "
        "(to extend it), --device, --workers and --no-progress may be given with it",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_override,
        help="set any other TrainConfig field, e.g. --set label_smoothing=0.1 (repeatable)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def build_train_config(args: argparse.Namespace) -> typing.Any:
    """The TrainConfig that the parsed arguments describe."""
    types = _field_types()
    values: dict[str, typing.Any] = {}
    for name in _FLAGS:
        text = getattr(args, name)
        if text is not None:
            values[name] = _parse_value(name, text, types[name])
    for item in args.overrides:
        key, value = _override(item)
        values[key] = value
    values.setdefault("exist_ok", args.exist_ok)
    values.setdefault("multi_scale", args.multi_scale)
    values.setdefault("mosaic", args.mosaic)
    values.setdefault("single_cls", args.single_cls)
    if args.no_augment:
        values["augment"] = False
    if args.no_amp:
        values["amp"] = False
    if args.no_progress:
        values["progress"] = False
    try:
        return TrainConfig(**values)
    except ValueError as exc:
        raise SystemExit(f"yolov3 train: {exc}") from None


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.checkpoint import CheckpointError
    from yolov3.data import DatasetError
    from yolov3.train import RunFolderError, TrainingDiverged, fit

    config = build_train_config(args)
    epochs = None
    if args.resume is not None:
        _refuse_run_changes(args)
        epochs = config.epochs if args.epochs is not None else None
    elif not config.data:
        raise SystemExit("yolov3 train: give --data PATH (or --resume runs/.../last.pt)")
    arch = args.arch or "yolov3"
    try:
        result = fit(config, arch=arch, resume=args.resume, device=args.device, epochs=epochs)
    except (TrainingDiverged, DatasetError, CheckpointError, RunFolderError) as exc:
        raise SystemExit(f"yolov3 train: {exc}") from None
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"yolov3 train: {exc}") from None
    if result["history"]:
        print(f"best validation AP50 {result['best_ap50']:.4f}; weights in {result['out']}/")
    return 0


# With --resume, these may differ from the run's own settings; everything else would change it.
_RESUME_ALLOWED = {"epochs", "workers", "device", "no_progress", "resume", "command", "func"}


def _refuse_run_changes(args: argparse.Namespace) -> None:
    """``--resume`` continues a run as it was: name every flag that would change it."""
    given = []
    for key, value in vars(args).items():
        if key in _RESUME_ALLOWED or value in (None, False, []):
            continue
        given.append("--set" if key == "overrides" else "--" + key.replace("_", "-"))
    if given:
        raise SystemExit(
            f"yolov3 train: --resume continues the run with its own settings; "
            f"{', '.join(given)} would change it (allowed: --epochs to extend it, --device, "
            "--workers, --no-progress)"
        )
