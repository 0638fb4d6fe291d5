"""``yolov3 detect SOURCE``: find objects in images, folders, globs and videos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def add_model_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Options that choose and configure a detector (shared with ``yolov3 val``)."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--weights",
        required=required,
        help="a training checkpoint (.pt) or Darknet weights (.weights, with --cfg)",
    )
    group.add_argument("--cfg", help="Darknet .cfg for .weights files")
    group.add_argument(
        "--names",
        help="class names file, one per line (default: the checkpoint's, or a "
        "single *.names beside --cfg with the right number of lines)",
    )
    group.add_argument(
        "--img-size", type=input_size, default=416, help="network input size (default 416)"
    )
    group.add_argument(
        "--stretch",
        action="store_true",
        help="resize to a square without keeping the aspect ratio (Darknet/OpenCV demo style) "
        "instead of letterboxing",
    )
    group.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    group.add_argument("--batch-size", type=int, default=8, help="images per forward pass")
    group.add_argument("--half", action="store_true", help="float16 inference (CUDA only)")


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
    from yolov3.predict import Detector

    weights = Path(args.weights)
    options = {
        "img_size": args.img_size,
        "device": args.device,
        "letterbox": not args.stretch,
        "half": args.half,
    }
    options.update(kwargs)
    if weights.suffix == ".weights" or args.cfg:
        if not args.cfg:
            raise ValueError(f"{weights} is a Darknet weights file; give its --cfg")
        return Detector.from_darknet(args.cfg, weights, names=args.names, **options)
    if args.names:
        from yolov3.predict import read_names

        options["class_names"] = read_names(args.names)
    return Detector.from_checkpoint(weights, **options)


def parse_classes(text: str | None, names: list[str]) -> list[int] | None:
    """``--classes 0,2,dog`` -> class ids (numbers or names)."""
    if not text:
        return None
    ids = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        if item.isdigit() and int(item) < len(names):
            ids.append(int(item))
        elif item in names:
            ids.append(names.index(item))
        else:
            raise SystemExit(
                f"yolov3: --classes: {item!r} is neither a class id (0..{len(names) - 1}) "
                "nor a class name of this model"
            )
    return ids


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="detect objects in an image, a folder, a glob or a video",
        description=(
            "Run a detector on SOURCE and write annotated images (or videos), YOLO txt\n"
            "labels and a COCO results JSON to --out. Files that cannot be read are\n"
            "reported and skipped."
        ),
        epilog=(
            "examples:\n"
            "  yolov3 detect photo.jpg --weights runs/train/best.pt\n"
            "  yolov3 detect 'photos/**/*.jpg' --weights yolov3-tiny.weights "
            "--cfg yolov3-tiny.cfg --conf 0.3 --classes person,dog\n"
            "  yolov3 detect clip.mp4 --weights best.pt --out runs/clip"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="image, folder, glob pattern or video")
    add_model_arguments(parser)
    parser.add_argument("--conf", type=fraction, default=0.25, help="score threshold (0.25)")
    parser.add_argument("--iou", type=fraction, default=0.45, help="NMS IoU threshold (0.45)")
    parser.add_argument("--max-det", type=int, default=300, help="detections per image (300)")
    parser.add_argument("--classes", help="keep only these classes: ids or names, comma-separated")
    parser.add_argument(
        "--out",
        default="runs/detect",
        help="output folder (runs/detect); never the source's own folder",
    )
    parser.add_argument("--no-images", action="store_true", help="do not write annotated images")
    parser.add_argument("--no-txt", action="store_true", help="do not write YOLO txt labels")
    parser.add_argument("--no-json", action="store_true", help="do not write results.json")
    parser.add_argument("--save-conf", action="store_true", help="add scores to the txt labels")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from yolov3.predict.pipeline import detect_source

    detector = build_detector(args, conf_thresh=args.conf, iou_thresh=args.iou)
    detector.max_det = args.max_det
    detector.classes = parse_classes(args.classes, detector.class_names)
    try:
        report = detect_source(
            detector,
            args.source,
            args.out,
            batch_size=args.batch_size,
            save_images=not args.no_images,
            save_txt=not args.no_txt,
            save_json=not args.no_json,
            save_conf=args.save_conf,
            progress=not args.quiet,
        )
    except OSError as exc:  # a missing source, an output folder that cannot be written
        raise SystemExit(f"yolov3 detect: {exc}") from exc
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if report.per_class:
        counts = sorted(report.per_class.items(), key=lambda item: (-item[1], item[0]))
        print("found: " + ", ".join(f"{count} {name}" for name, count in counts))
    rate = report.images / max(report.seconds, 1e-9)
    print(
        f"{report.images} images, {report.detections} detections in {report.seconds:.1f} s "
        f"({rate:.1f} images/s); {len(report.skipped)} files skipped; results in {args.out}/"
    )
    return 1 if report.images == 0 else 0
