"""``yolov3 val``: COCO metrics (and VOC AP) of a detector on a labelled dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from yolov3.cli.options import (
    NAMES_FILE,
    add_model_arguments,
    build_detector,
    dataset_path,
    existing_file,
    fraction,
    positive_int,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "val",
        help="evaluate a detector on a dataset: COCO AP/AR, VOC AP, PR curve, confusion matrix",
        description=(
            "Predict every image of a dataset (YOLO txt, Pascal VOC or COCO JSON) and measure\n"
            "the 12 COCO numbers (AP50:95, AP50, AP75, AP and AR by object size, AR@1/10/100),\n"
            "per-class AP, VOC07 11-point and all-point mAP@0.5, and precision, recall and F1\n"
            "at the best-F1 threshold. Writes report.txt, metrics.json, results.json (COCO\n"
            "results), ground_truth.json (COCO instances) and PR-curve, F1-curve and\n"
            "confusion-matrix PNGs to --out. Object sizes (small/medium/large) use the COCO\n"
            "annotation's area where it has one (as pycocotools), else the box area;\n"
            "--pycocotools runs on the dataset's original JSON when there is one."
        ),
        epilog=(
            "example:\n  yolov3 val --data ../shared/data/coco128 --split val2017 "
            "--weights yolov3-tiny.weights --cfg yolov3-tiny.cfg --pycocotools"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", required=True, type=dataset_path, help="dataset folder (or COCO JSON file)"
    )
    data.add_argument("--format", choices=("yolo", "voc", "coco"), help="default: detected")
    data.add_argument("--split", help="split to read (val2017, val, test ...)")
    data.add_argument(
        "--data-names", type=NAMES_FILE, help="class names file for YOLO/VOC datasets"
    )
    add_model_arguments(parser, required=False)
    _add_results_arguments(parser)
    parser.add_argument("--conf", type=fraction, default=0.001, help="score threshold (0.001)")
    parser.add_argument("--iou", type=fraction, default=0.6, help="NMS IoU threshold (0.6)")
    parser.add_argument(
        "--max-det", type=positive_int, default=300, help="detections per image (300)"
    )
    parser.add_argument(
        "--multi-label", action="store_true", help="score every class of a box, not only its best"
    )
    parser.add_argument("--no-voc", action="store_true", help="skip the VOC AP numbers")
    parser.add_argument(
        "--pycocotools", action="store_true", help="also run pycocotools and print both"
    )
    parser.add_argument(
        "--plot-conf", type=fraction, default=0.25, help="score threshold of the confusion matrix"
    )
    parser.add_argument("--out", default="runs/val", help="output folder (runs/val)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _add_results_arguments(parser: argparse.ArgumentParser) -> None:
    """--results and --match: evaluate a COCO results file instead of a model."""
    parser.add_argument(
        "--results",
        type=existing_file,
        help="evaluate this COCO results JSON instead of running --weights; categories map "
        "by category_name when entries have one, else by the dataset's category ids",
    )
    parser.add_argument(
        "--match",
        choices=("auto", "file_name", "image_id"),
        default="auto",
        help="--results: find each result's image by file_name or by the dataset's image_id; "
        "auto = file_name when every entry has one, else image_id. A result that matches no "
        "image is an error",
    )


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import DatasetError, read_dataset
    from yolov3.evaluate.report import evaluate_dataset, evaluate_predictions, read_coco_results

    if (args.weights is None) == (args.results is None):
        raise SystemExit("yolov3 val: give either --weights (to run a model) or --results")
    try:
        data = read_dataset(args.data, args.format, args.split, names=args.data_names)
    except DatasetError as exc:
        raise SystemExit(f"yolov3 val: {exc}") from exc
    options = {"voc": not args.no_voc, "pycocotools": args.pycocotools}
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)  # fail before predicting, not after
        if args.results:
            preds = read_coco_results(args.results, data, match=args.match)
            report = evaluate_predictions(
                preds, data, args.out, plot_conf=args.plot_conf, **options
            )
        else:
            detector = build_detector(
                args,
                conf_thresh=args.conf,
                iou_thresh=args.iou,
                max_det=args.max_det,
                multi_label=args.multi_label,
            )
            report = evaluate_dataset(
                detector,
                data,
                args.out,
                batch_size=args.batch_size,
                plot_conf=args.plot_conf,
                progress=not args.quiet,
                **options,
            )
    except (ValueError, OSError) as exc:
        raise SystemExit(f"yolov3 val: {exc}") from exc
    print(report.text())
    print(f"\nwritten to {args.out}/: " + ", ".join(p.name for p in report.written.values()))
    return 0
