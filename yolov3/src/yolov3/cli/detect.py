"""``yolov3 detect SOURCE``: find objects in images, folders, globs and videos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yolov3.cli.options import (
    add_model_arguments,
    build_detector,
    existing_file,
    fraction,
    positive_int,
)


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
                f"yolov3 detect: --classes: {item!r} is neither a class id (0..{len(names) - 1}) "
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
            "reported and skipped. Images and video frames are read as RGB, as in training;\n"
            "the input size defaults to the checkpoint's training size (a cfg's width).\n"
            "An ONNX file from `yolov3 export` runs in ONNX Runtime: an end-to-end one\n"
            "(--nms) with its own decoding and NMS, a raw one decoded here; both write the\n"
            "same outputs as the PyTorch model."
        ),
        epilog=(
            "examples:\n"
            "  yolov3 detect photo.jpg --weights runs/train/exp/best.pt\n"
            "  yolov3 detect 'photos/**/*.jpg' --weights yolov3-tiny.weights "
            "--cfg yolov3-tiny.cfg --conf 0.3 --classes person,dog\n"
            "  yolov3 detect clip.mp4 --weights best.pt --out runs/clip\n"
            "  yolov3 detect photos/ --weights best.onnx --conf 0.4"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="image, folder, glob pattern or video")
    add_model_arguments(parser, onnx=True)
    parser.add_argument(
        "--conf", type=fraction, help="score threshold (0.25; an end-to-end ONNX file: its own)"
    )
    parser.add_argument(
        "--iou", type=fraction, help="NMS IoU threshold (0.45; an end-to-end ONNX file: its own)"
    )
    parser.add_argument(
        "--max-det",
        type=positive_int,
        help="detections per image (300; an end-to-end ONNX file: its own)",
    )
    parser.add_argument("--classes", help="keep only these classes: ids or names, comma-separated")
    parser.add_argument(
        "--out",
        default="runs/detect",
        help="output folder (runs/detect); never the source's own folder",
    )
    parser.add_argument("--no-images", action="store_true", help="do not write annotated images")
    parser.add_argument("--no-txt", action="store_true", help="do not write YOLO txt labels")
    parser.add_argument("--no-json", action="store_true", help="do not write results.json")
    parser.add_argument(
        "--categories",
        type=existing_file,
        help="a categories.json or COCO instances JSON: write its category ids (matched by "
        "class name) to results.json. Default: the ids the checkpoint was trained with, else "
        "class index + 1; every result also carries its category_name",
    )
    parser.add_argument("--save-conf", action="store_true", help="add scores to the txt labels")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import DatasetError
    from yolov3.data.layout import read_categories
    from yolov3.predict.pipeline import detect_source

    detector = build_detector(
        args, conf_thresh=args.conf, iou_thresh=args.iou, max_det=args.max_det
    )
    if args.categories is not None:
        try:
            detector.category_ids = read_categories(Path(args.categories), detector.class_names)
        except DatasetError as exc:
            raise SystemExit(f"yolov3 detect: --categories {exc}") from None
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
    if report.images == 0:
        print(
            f"yolov3 detect: no image or video frame of {args.source} could be read",
            file=sys.stderr,
        )
        return 1
    return 0
