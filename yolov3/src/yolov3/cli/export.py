"""``yolov3 export``: a trained model to ONNX, or to a Darknet ``.cfg`` + ``.weights`` pair."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yolov3.cli.options import (
    CFG_FILE,
    MODEL_FILE,
    NAMES_FILE,
    ExamplesFormatter,
    fraction,
    input_size,
    positive_int,
)


def _model_file(text: str) -> Path:
    return Path(MODEL_FILE(text))


def _cfg_file(text: str) -> Path:
    return Path(CFG_FILE(text))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a model as ONNX (checked with ONNX Runtime) or as Darknet cfg + weights",
        description=(
            "Export a checkpoint (EMA weights preferred) or a Darknet model. ONNX: the fused "
            "inference graph, input 'images' float32 [B, 3, H, W] RGB 0..1, outputs "
            "'output_s32', 'output_s16' (, 'output_s8') raw logits [B, 3, H/s, W/s, 5+C]; "
            "the file is run once in ONNX Runtime and compared with PyTorch. With --nms: the "
            "whole detector, decoding and class-aware NMS included, with dynamic batch and "
            "size, optional inputs 'score_threshold', 'iou_threshold' (float32 scalars) and "
            "'max_detections' (int64 scalar) defaulting to --conf, --iou and --max-det, and "
            "one output 'detections' float32 [N, 7]: batch index, x1, y1, x2, y2 (input "
            "pixels), score, class; rows by image, then by decreasing score. Darknet: OUT.cfg "
            "and OUT.weights, readable by Darknet and OpenCV's readNetFromDarknet."
        ),
        epilog=(
            "examples:\n"
            "  yolov3 export runs/train/exp/best.pt --out best.onnx\n"
            "  yolov3 export runs/train/exp/best.pt --dynamic --out best-dynamic.onnx\n"
            "  yolov3 export runs/train/exp/best.pt --nms --conf 0.3 --out best-nms.onnx\n"
            "  yolov3 export yolov3-tiny.weights --cfg yolov3-tiny.cfg --out tiny.onnx\n"
            "  yolov3 export runs/train/exp/best.pt --format darknet --out darknet/best"
        ),
        formatter_class=ExamplesFormatter,
    )
    parser.add_argument("source", type=_model_file, help="checkpoint .pt, or Darknet .weights")
    parser.add_argument("--cfg", type=_cfg_file, help="Darknet .cfg for a .weights source")
    parser.add_argument(
        "--format", dest="fmt", choices=("onnx", "darknet"), default="onnx", help="default: onnx"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output file (onnx) or path stem (darknet: STEM.cfg, STEM.weights); "
        "default: next to the source",
    )
    parser.add_argument(
        "--img-size",
        type=input_size,
        default=None,
        help="input size (default: the checkpoint's training size or the cfg's width, else 416)",
    )
    _add_onnx_arguments(parser)
    parser.add_argument(
        "--names",
        type=NAMES_FILE,
        help="class names to store in the file, one per line (default: the checkpoint's, or "
        "a single *.names beside --cfg with the right number of lines)",
    )
    parser.add_argument(
        "--exporter",
        choices=("auto", "dynamo", "torchscript"),
        default="auto",
        help="ONNX exporter: torch.export based, legacy tracer, or torch's default (auto); "
        "--nms always uses the tracer",
    )
    parser.set_defaults(func=run)


def _add_onnx_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch", type=positive_int, default=1, help="ONNX batch size (default: 1)"
    )
    parser.add_argument(
        "--dynamic", action="store_true", help="ONNX: dynamic batch, height and width"
    )
    parser.add_argument("--opset", type=positive_int, help="ONNX opset (default: the exporter's)")
    parser.add_argument(
        "--nms",
        action="store_true",
        help="ONNX: the whole detector, decoding and NMS in the graph (output 'detections' "
        "[N, 7]); batch, height and width are always dynamic",
    )
    parser.add_argument(
        "--conf", type=fraction, default=0.25, help="--nms: default score threshold (0.25)"
    )
    parser.add_argument(
        "--iou", type=fraction, default=0.45, help="--nms: default NMS IoU threshold (0.45)"
    )
    parser.add_argument(
        "--max-det",
        type=positive_int,
        default=300,
        help="--nms: default detections per image (300)",
    )


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.checkpoint import CheckpointError
    from yolov3.model.darknet_io import DarknetFormatError
    from yolov3.model.loading import load_model

    try:
        model = _with_names(load_model(args.source, args.cfg), args)
        args.img_size = args.img_size or model.input_size or 416
        if args.fmt == "darknet":
            return _to_darknet(model, args)
        if args.nms:
            return _to_onnx_nms(model, args)
        return _to_onnx(model, args)
    except (CheckpointError, DarknetFormatError, OSError, ValueError) as err:
        print(f"yolov3 export: {err}", file=sys.stderr)
        return 1


def _overwrites_source(args: argparse.Namespace, *outputs: Path) -> bool:
    sources = {p.resolve() for p in (args.source, args.cfg) if p is not None}
    return bool({out.resolve() for out in outputs} & sources)


def _to_darknet(model, args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.model.darknet_io import save_darknet_weights, write_cfg

    stem = args.out or args.source.with_suffix("")
    cfg, weights = stem.with_name(stem.name + ".cfg"), stem.with_name(stem.name + ".weights")
    if _overwrites_source(args, cfg, weights):
        print(
            f"yolov3 export: {stem}.cfg/.weights would overwrite the source; pass --out",
            file=sys.stderr,
        )
        return 1
    stem.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_cfg(model, cfg, img_size=args.img_size)
    except ValueError as err:
        print(f"yolov3 export: {err}", file=sys.stderr)
        return 1
    save_darknet_weights(model, weights)
    print(f"wrote {cfg} and {weights} ({weights.stat().st_size:,} bytes)")
    return 0


def _to_onnx(model, args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    import torch

    from yolov3.model.onnx_export import compare_onnx, export_onnx

    out = args.out or args.source.with_suffix(".onnx")
    if _overwrites_source(args, out):
        print(
            f"yolov3 export: {out} would overwrite the source; pass another --out", file=sys.stderr
        )
        return 1
    try:
        export_onnx(
            model,
            out,
            img_size=args.img_size,
            batch_size=args.batch,
            dynamic=args.dynamic,
            opset=args.opset,
            exporter=args.exporter,
        )
    except (ValueError, RuntimeError) as err:
        print(f"yolov3 export: {err}", file=sys.stderr)
        return 1
    images = torch.rand(args.batch, 3, args.img_size, args.img_size)
    diff = compare_onnx(model, out, images)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    print(f"ONNX Runtime vs PyTorch on a random batch: max |difference| = {diff:.2e}")
    if diff > 1e-4:
        print(
            "yolov3 export: the ONNX outputs differ from PyTorch's by more than 1e-4",
            file=sys.stderr,
        )
        return 1
    return 0


def _with_names(model, args: argparse.Namespace):
    """``model`` with the class names of ``--names`` or of a names file beside ``--cfg``."""
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    import dataclasses

    from yolov3.predict.detector import names_beside, read_names

    count = model.config.num_classes
    if args.names:
        names = read_names(args.names)
        if len(names) != count:
            raise ValueError(f"--names {args.names}: {len(names)} names for {count} classes")
    elif args.cfg and not model.config.class_names:
        names = names_beside(Path(args.cfg), count)
    else:
        return model
    if names:
        model.config = dataclasses.replace(model.config, class_names=tuple(names))
    return model


def _to_onnx_nms(model, args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.predict.onnx_graph import export_onnx_nms

    out = args.out or args.source.with_suffix(".onnx")
    if _overwrites_source(args, out):
        print(
            f"yolov3 export: {out} would overwrite the source; pass another --out", file=sys.stderr
        )
        return 1
    if args.exporter == "dynamo":
        print("yolov3 export: --nms exports through the tracer; drop --exporter", file=sys.stderr)
        return 1
    export_onnx_nms(
        model,
        out,
        img_size=args.img_size,
        conf_thresh=args.conf,
        iou_thresh=args.iou,
        max_det=args.max_det,
        opset=args.opset,
    )
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    parity = check_end_to_end(model, out, args.img_size, args.iou, args.max_det)
    print(f"ONNX Runtime vs PyTorch on 2 random images, score > {CHECK_CONF}: {parity.summary()}")
    if not parity.equal:
        print("yolov3 export: the ONNX detections differ from PyTorch's", file=sys.stderr)
        return 1
    return 0


CHECK_CONF = 0.01  # low, so that even random images give the NMS something to do


def check_end_to_end(model, path: Path, img_size: int, iou: float, max_det: int):
    """PyTorch's and the ONNX file's detections on two random images, compared.

    The images are smooth colour noise (16 x 16 random pixels scaled up), in which trained
    models find blob-like objects; plain pixel noise rarely gives a detection.
    """
    # lazy: OpenCV loads only when a command runs, so `yolov3 --help` stays fast
    import cv2
    import numpy as np

    from yolov3.predict import Detector
    from yolov3.predict.onnx_runtime import OnnxDetector
    from yolov3.predict.parity import compare_detections

    coarse = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), np.uint8)
    size = (img_size, img_size)
    batch = np.stack([cv2.resize(c, size, interpolation=cv2.INTER_CUBIC) for c in coarse])
    options = {"conf_thresh": CHECK_CONF, "iou_thresh": iou, "max_det": max_det}
    ours = Detector(model, img_size, device="cpu", **options).detect_batch(batch)
    theirs = OnnxDetector(path, img_size, **options).detect_batch(batch)
    return compare_detections(ours, theirs, CHECK_CONF)
