"""CPU latency, batch 1: our fused PyTorch model, our ONNX export, and OpenCV DNN.

For YOLOv3-416 and YOLOv3-tiny-416, each backend runs on the same input with the same thread
count. Rounds interleave the backends (one run of each per round), and each backend's time is
divided by OpenCV's time in the same round, so a neighbour's load spike skews a ratio less
than it skews the absolute times. Targets: PyTorch within 1.25x of OpenCV DNN, ONNX Runtime
within 1.0x.

No backend busy-waits between parallel regions: ONNX Runtime runs with spinning off and
OpenMP (PyTorch's thread pool) with ``OMP_WAIT_POLICY=PASSIVE`` unless set otherwise. On a
shared machine spinning threads steal cores from each other and from their neighbours;
with OpenMP's default policy PyTorch measured 2-3x slower here than with the passive one.

    python yolov3/benchmarks/bench_model.py [--threads 2] [--runs 10] [--arch yolov3-tiny]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when torch loads OpenMP

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from yolov3.config import ModelConfig
from yolov3.model import build_model
from yolov3.model.darknet_cfg import describe_model
from yolov3.model.darknet_io import (
    load_darknet_weights,
    save_darknet_weights,
    write_cfg,
)
from yolov3.model.onnx_export import export_onnx

DARKNET = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "darknet"
TARGETS = {"pytorch (fused)": 1.25, "onnxruntime": 1.0}


def make_model(arch: str) -> tuple[nn.Module, str]:
    """The official tiny weights when the shared data is there, else calibrated random ones."""
    config = ModelConfig() if arch == "yolov3" else ModelConfig.tiny()
    model = build_model(config)
    if arch == "yolov3-tiny" and (DARKNET / "yolov3-tiny.weights").exists():
        load_darknet_weights(model, DARKNET / "yolov3-tiny.weights")
        return model.eval(), "official weights"
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # one calibration batch sets realistic BN statistics
    with torch.no_grad():
        model.train()(torch.rand(2, 3, 128, 128))
    return model.eval(), "random weights, BN calibrated"


def backends(model: nn.Module, x: np.ndarray, threads: int, exporter: str, folder: Path):
    """Name -> (run function, raw prediction-conv outputs in our layout)."""
    cfg, weights = write_cfg(model, folder / "m.cfg"), save_darknet_weights(model, folder / "m.w")
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    heads = [
        f"conv_{i}"
        for i, layer in enumerate(describe_model(model))
        if layer.module is not None and any(layer.module is c for c in model.head_convs())
    ]

    def run_opencv():
        net.setInput(x)
        return net.forward(heads)

    onnx_path = export_onnx(model, folder / "m.onnx", img_size=x.shape[-1], exporter=exporter)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def run_onnx():
        return session.run(None, {"images": x})

    fused = build_model(model.config)
    fused.load_state_dict(model.state_dict())
    fused.fuse()
    images = torch.from_numpy(x)

    def run_torch():
        with torch.inference_mode():
            return fused(images)

    a = model.config.num_anchors
    return {
        "opencv dnn": (run_opencv, lambda outs: [_grid(o, a) for o in outs]),
        "onnxruntime": (run_onnx, lambda outs: list(outs)),
        "pytorch (fused)": (run_torch, lambda outs: [o.numpy() for o in outs]),
    }


def _grid(raw: np.ndarray, a: int) -> np.ndarray:
    b, c, h, w = raw.shape
    return raw.reshape(b, a, c // a, h, w).transpose(0, 1, 3, 4, 2)


def measure(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    for run in runs.values():  # warm-up: first calls allocate and pick kernels
        run()
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def bench(arch: str, size: int, threads: int, rounds: int, exporter: str) -> None:
    model, weights = make_model(arch)
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    with tempfile.TemporaryDirectory() as folder:
        table = backends(model, x, threads, exporter, Path(folder))
        with torch.no_grad():
            reference = [o.numpy() for o in model(torch.from_numpy(x))]
        print(f"\n{arch}-{size}, batch 1, {threads} threads, {weights}, {rounds} rounds")
        for name, (run, to_grid) in table.items():
            diff = max(
                float(np.abs(o - r).max()) for o, r in zip(to_grid(run()), reference, strict=True)
            )
            print(f"  {name:16} max |output - unfused PyTorch| = {diff:.1e}")
        times = measure({name: run for name, (run, _) in table.items()}, rounds)
    base = times["opencv dnn"]
    print(f"  {'backend':16} {'median ms':>10} {'min ms':>8} {'x OpenCV':>9}  target")
    for name, values in times.items():
        ratio = statistics.median(t / b for t, b in zip(values, base, strict=True))
        target = TARGETS.get(name)
        verdict = (
            "" if target is None else f"<= {target:.2f}  {'met' if ratio <= target else 'MISSED'}"
        )
        print(
            f"  {name:16} {1000 * statistics.median(values):>10.1f} {1000 * min(values):>8.1f} "
            f"{ratio:>9.2f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["yolov3", "yolov3-tiny"])
    parser.add_argument("--size", type=int, default=416)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10, help="rounds for YOLOv3 (tiny: 3x)")
    parser.add_argument("--exporter", default="auto", choices=("auto", "dynamo", "torchscript"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    print(
        f"torch {torch.__version__}, onnxruntime {ort.__version__}, opencv {cv2.__version__}; "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, ONNX Runtime spinning off"
    )
    for arch in args.arch:
        rounds = args.runs if arch == "yolov3" else 3 * args.runs
        bench(arch, args.size, args.threads, rounds, args.exporter)


if __name__ == "__main__":
    main()
