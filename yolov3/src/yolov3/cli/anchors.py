"""``yolov3 anchors``: fit anchors to a dataset and compare them with the COCO defaults."""

from __future__ import annotations

import argparse
import sys

from yolov3.cli.options import ExamplesFormatter, add_source_arguments, positive_int
from yolov3.config import YOLOV3_ANCHORS, YOLOV3_TINY_ANCHORS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "anchors",
        help="k-means anchors (1 - IoU distance) for a dataset, compared with COCO's",
        description="Cluster the dataset's letterboxed box shapes into anchors with k-means "
        "and 1 - IoU as the distance. Prints the anchors per output scale (as ModelConfig "
        "takes them and as a Darknet cfg line), their mean best IoU and recall at --thresh, "
        "and the same figures for the default COCO anchors.",
        epilog="examples:\n"
        "  yolov3 anchors coco128/ --split train2017\n"
        "  yolov3 anchors raccoon/ --tiny --img-size 320",
        formatter_class=ExamplesFormatter,
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--tiny", action="store_true", help="6 anchors on 2 scales (YOLOv3-tiny) instead of 9 on 3"
    )
    parser.add_argument(
        "--img-size", type=positive_int, default=416, help="input size (default: 416)"
    )
    parser.add_argument(
        "--thresh", type=float, default=0.5, help="shape-IoU threshold for recall (default 0.5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="k-means seed (default: 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    import numpy as np

    from yolov3.data import DatasetError, read_dataset
    from yolov3.data.anchors import (
        MIN_SIDE,
        anchor_fit,
        box_shapes,
        group_by_scale,
        kmeans_anchors,
    )

    num_scales = 2 if args.tiny else 3
    try:
        data = read_dataset(args.source, args.fmt, args.split, args.names)
        wh = box_shapes(data, args.img_size)
        anchors = kmeans_anchors(wh, k=3 * num_scales, seed=args.seed)
    except (DatasetError, ValueError) as err:
        print(f"yolov3 anchors: {err}", file=sys.stderr)
        return 1
    groups = group_by_scale(anchors, num_scales)
    default = YOLOV3_TINY_ANCHORS if args.tiny else YOLOV3_ANCHORS
    flat = sorted((a for g in groups for a in g), key=lambda a: a[0] * a[1])
    fitted = anchor_fit(wh, np.array(flat, np.float64), args.thresh)
    coco = anchor_fit(wh, np.array([a for g in default for a in g], np.float64), args.thresh)
    small = data.num_boxes - len(wh)
    left_out = f" ({small} left out: under {MIN_SIDE:g} px or image size unknown)" if small else ""
    print(
        f"{len(wh)} boxes from {len(data.records)} images, letterboxed to {args.img_size}"
        + left_out
    )
    print("anchors per scale (coarsest first, as ModelConfig(anchors=...)):")
    print(f"  {groups}")
    print("darknet cfg: anchors = " + ", ".join(f"{w},{h}" for w, h in flat))
    print(f"{'':16}{'mean best IoU':>15}{f'recall@{args.thresh:g}':>14}")
    print(f"{'fitted':16}{fitted.mean_iou:>15.3f}{fitted.recall:>14.3f}")
    print(f"{'default COCO':16}{coco.mean_iou:>15.3f}{coco.recall:>14.3f}")
    return 0
