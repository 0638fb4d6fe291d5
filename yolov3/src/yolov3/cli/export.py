"""``yolov3 export``: a trained model to ONNX, or to a Darknet ``.cfg`` + ``.weights`` pair."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from yolov3.cli.options import (
    CFG_FILE,
    MODEL_FILE,
    ExamplesFormatter,
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
            "the file is run once in ONNX Runtime and compared with PyTorch. Darknet: OUT.cfg "
            "and OUT.weights, readable by Darknet and OpenCV's readNetFromDarknet."
        ),
        epilog=(
            "examples:\n"
            "  yolov3 export runs/train/exp/best.pt --out best.onnx\n"
            "  yolov3 export runs/train/exp/best.pt --dynamic --out best-dynamic.onnx\n"
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
    parser.add_argument(
        "--batch", type=positive_int, default=1, help="ONNX batch size (default: 1)"
    )
    parser.add_argument(
        "--dynamic", action="store_true", help="ONNX: dynamic batch, height and width"
    )
    parser.add_argument("--opset", type=positive_int, help="ONNX opset (default: the exporter's)")
    parser.add_argument(
        "--exporter",
        choices=("auto", "dynamo", "torchscript"),
        default="auto",
        help="ONNX exporter: torch.export based, legacy tracer, or torch's default (auto)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.checkpoint import CheckpointError
    from yolov3.model.darknet_io import DarknetFormatError
    from yolov3.model.loading import load_model

    try:
        model = load_model(args.source, args.cfg)
        args.img_size = args.img_size or model.input_size or 416
        if args.fmt == "darknet":
            return _to_darknet(model, args)
        return _to_onnx(model, args)
    except (CheckpointError, DarknetFormatError, OSError) as err:
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
