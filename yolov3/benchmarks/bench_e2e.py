"""End-to-end CPU latency per image: pre-processing, the network and NMS, three pipelines.

- ``pytorch``: :class:`yolov3.predict.Detector` (letterbox, fused model, decode, batched NMS,
  boxes back to image pixels);
- ``onnx e2e``: :class:`yolov3.predict.onnx_runtime.OnnxDetector` on a ``yolov3 export --nms``
  file (letterbox, then one ONNX Runtime call that decodes and suppresses, boxes back);
- ``opencv dnn``: OpenCV's own pipeline, ``cv2.dnn.readNetFromDarknet`` with ``blobFromImage``
  (a plain resize, as OpenCV's samples do), its ``[yolo]`` layers' decoding and
  ``cv2.dnn.NMSBoxesBatched`` (class-aware), boxes back to image pixels.

All three get the same decoded images (reading files is not timed), batch 1, score 0.25, IoU
0.45, the same thread count, and the same weights: YOLOv3-tiny's official ones when the
shared data is there, random ones for YOLOv3 (see :func:`make_model`: the network's latency
does not depend on them, and NMS gets tens of boxes per image, as from a trained model).
Rounds interleave the pipelines, so a neighbour's load spike hits all three; each figure is
the median over rounds of the mean time per image.

No backend busy-waits: ONNX Runtime runs with spinning off and PyTorch's OpenMP with
``OMP_WAIT_POLICY=PASSIVE`` (see ``bench_model.py``).

    python yolov3/benchmarks/bench_e2e.py [--threads 2] [--runs 5] [--arch yolov3-tiny]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when torch loads OpenMP

import argparse
import copy
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
from yolov3.data import letterbox, load_image
from yolov3.model import build_model
from yolov3.model.darknet_io import load_darknet_weights, save_darknet_weights, write_cfg
from yolov3.predict import Detector
from yolov3.predict.onnx_graph import export_onnx_nms
from yolov3.predict.onnx_runtime import OnnxDetector
from yolov3.predict.parity import compare_detections

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CONF, IOU = 0.25, 0.45


def load_images(count: int) -> tuple[list[np.ndarray], str]:
    """The Darknet sample photos, then coco128 val2017 images, up to ``count`` (RGB)."""
    files = sorted((SHARED / "darknet" / "images").glob("*.jpg"))
    files += sorted((SHARED / "coco128" / "images" / "val2017").glob("*.jpg"))
    if len(files) >= count:
        return [load_image(f) for f in files[:count]], f"{count} shared sample/coco128 images"
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (count, 16, 16, 3), np.uint8)
    images = [cv2.resize(c, (640, 480), interpolation=cv2.INTER_CUBIC) for c in coarse]
    return images, f"{count} random 640x480 images (shared data not found)"


def make_model(arch: str, images: list[np.ndarray], size: int) -> tuple[nn.Module, str]:
    """The official tiny weights when the shared data is there, else random ones made to
    behave like a trained model's: batch norm calibrated on the benchmark's images and head
    biases that leave tens of detections per image, not thousands of saturated scores."""
    config = ModelConfig() if arch == "yolov3" else ModelConfig.tiny()
    torch.manual_seed(0)
    model = build_model(config)
    weights = SHARED / "darknet" / "yolov3-tiny.weights"
    if arch == "yolov3-tiny" and weights.is_file():
        load_darknet_weights(model, weights)
        return model.eval(), "official weights"
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # one calibration batch sets the running statistics
    batch = np.stack([letterbox(im, size)[0] for im in images[:4]])
    with torch.no_grad():
        model.train()(torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255)
        for conv in model.head_convs():
            bias = conv.bias.view(config.num_anchors, 5 + config.num_classes)
            bias[:, 4], bias[:, 5:] = -3.0, -1.5  # objectness, classes
    return model.eval(), "random weights, BN calibrated"


def opencv_pipeline(model: nn.Module, size: int, folder: Path) -> Callable[[np.ndarray], dict]:
    """OpenCV DNN's detector for ``model``: BGR image in, boxes in its pixels out."""
    cfg = write_cfg(model, folder / "m.cfg", img_size=size)
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(save_darknet_weights(model, folder / "m.w")))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    outputs = net.getUnconnectedOutLayersNames()

    def detect(image_bgr: np.ndarray) -> dict[str, torch.Tensor]:
        h, w = image_bgr.shape[:2]
        net.setInput(cv2.dnn.blobFromImage(image_bgr, 1 / 255, (size, size), swapRB=True))
        rows = np.concatenate(net.forward(outputs))  # (N, 5 + C): cx, cy, w, h normalised
        labels = rows[:, 5:].argmax(1)
        scores = rows[np.arange(len(rows)), 5 + labels]  # objectness x class probability
        keep = (scores > CONF) & np.isfinite(rows[:, :4]).all(1)
        rows, labels, scores = rows[keep], labels[keep], scores[keep]
        xywh = np.stack(
            [
                (rows[:, 0] - rows[:, 2] / 2) * w,
                (rows[:, 1] - rows[:, 3] / 2) * h,
                rows[:, 2] * w,
                rows[:, 3] * h,
            ],
            1,
        )
        idx = np.asarray(cv2.dnn.NMSBoxesBatched(xywh, scores, labels, CONF, IOU), int)
        idx = idx.reshape(-1)
        boxes = np.concatenate((xywh[idx, :2], xywh[idx, :2] + xywh[idx, 2:]), 1)
        return {"boxes": boxes, "scores": scores[idx], "labels": labels[idx]}

    return detect


def measure(pipelines: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    for run in pipelines.values():  # warm-up: first calls allocate and pick kernels
        run()
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(rounds):
        for name, run in pipelines.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def bench(arch: str, size: int, threads: int, rounds: int, images: list[np.ndarray]) -> None:
    model, weights = make_model(arch, images, size)
    bgr = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in images]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        torch_detector = Detector(copy.deepcopy(model).fuse(), size, CONF, IOU, device="cpu")
        path = export_onnx_nms(model, folder / "e2e.onnx", size, CONF, IOU)
        onnx_detector = OnnxDetector(path, size, threads=threads)
        opencv = opencv_pipeline(model, size, folder)
        runs = {
            "pytorch": lambda: [torch_detector.predict_arrays([im])[0] for im in images],
            "onnx e2e": lambda: [onnx_detector.predict_arrays([im])[0] for im in images],
            "opencv dnn": lambda: [opencv(im) for im in bgr],
        }
        found = {name: run() for name, run in runs.items()}
        times = measure(runs, rounds)
    parity = compare_detections(found["pytorch"], found["onnx e2e"], CONF)
    counts = {name: sum(len(d["scores"]) for d in dets) for name, dets in found.items()}
    print(f"\n{arch}-{size}, batch 1, {threads} threads, {weights}, {rounds} rounds")
    print(f"  onnx e2e vs pytorch: {parity.summary()}")
    print("  detections: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    base = [t / len(images) for t in times["opencv dnn"]]
    print(f"  {'pipeline':12} {'median ms/image':>16} {'min':>8} {'x OpenCV':>9}")
    for name, values in times.items():
        per_image = [t / len(images) for t in values]
        ratio = statistics.median(t / b for t, b in zip(per_image, base, strict=True))
        print(
            f"  {name:12} {1000 * statistics.median(per_image):>16.1f} "
            f"{1000 * min(per_image):>8.1f} {ratio:>9.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="+", default=["yolov3-tiny", "yolov3"])
    parser.add_argument("--size", type=int, default=416)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=8, help="images per round (8)")
    parser.add_argument("--runs", type=int, default=5, help="rounds for YOLOv3 (tiny: 3x)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    images, what = load_images(args.images)
    print(
        f"torch {torch.__version__}, onnxruntime {ort.__version__}, opencv {cv2.__version__}; "
        f"{what}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, ONNX Runtime spinning off"
    )
    for arch in args.arch:
        rounds = args.runs if arch == "yolov3" else 3 * args.runs
        bench(arch, args.size, args.threads, rounds, images)


if __name__ == "__main__":
    main()
