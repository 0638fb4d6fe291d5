"""End-to-end ``detect`` throughput on the CPU: YOLOv3-tiny and YOLOv3 at 416.

Decoding, letterboxing, the network, NMS, drawing and writing every output are all timed,
as ``yolov3 detect`` does them. Images: coco128 val2017 from the shared data when present,
else random 640x480 pictures. YOLOv3-tiny uses the official weights when present; YOLOv3 has
random weights (its speed does not depend on them).
Run: ``python yolov3/benchmarks/bench_detect.py [--images 32] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def prepare_images(folder: Path, count: int) -> str:
    source = SHARED / "coco128" / "images" / "val2017"
    files = sorted(source.glob("*.jpg"))[:count] if source.is_dir() else []
    if len(files) == count:
        for f in files:
            shutil.copy(f, folder / f.name)
        return f"{count} coco128 val2017 images"
    import cv2

    rng = np.random.default_rng(0)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.jpg"), rng.integers(0, 255, (480, 640, 3), np.uint8))
    return f"{count} random 640x480 images"


def build(arch: str):
    from yolov3.config import ModelConfig
    from yolov3.model import build_model
    from yolov3.predict import Detector

    darknet = SHARED / "darknet"
    if arch == "yolov3-tiny" and (darknet / "yolov3-tiny.weights").is_file():
        detector = Detector.from_darknet(
            darknet / "yolov3-tiny.cfg", darknet / "yolov3-tiny.weights", device="cpu"
        )
        return detector, "official weights"
    torch.manual_seed(0)
    config = ModelConfig() if arch == "yolov3" else ModelConfig.tiny()
    model = build_model(config)
    model.init_head_biases(img_size=640, fresh_weights=False)
    return Detector(model.fuse(), device="cpu"), "random weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from yolov3.predict.pipeline import detect_source

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "images"
        source.mkdir()
        what = prepare_images(source, args.images)
        print(f"{what}, img-size 416, {args.threads} CPU threads, batch {args.batch_size}")
        for arch in ("yolov3-tiny", "yolov3"):
            detector, weights = build(arch)
            warm = sorted(source.iterdir())[0]
            detect_source(detector, warm, Path(tmp) / "warm", progress=False)  # first-call costs
            cpu = time.process_time()
            report = detect_source(
                detector, source, Path(tmp) / arch, batch_size=args.batch_size, progress=False
            )
            cpu_ms = (time.process_time() - cpu) * 1000 / report.images
            rate = report.images / report.seconds
            print(
                f"{arch:<12} ({weights}): {rate:6.2f} images/s "
                f"({1000 / rate:6.0f} ms/image wall, {cpu_ms:6.0f} ms/image CPU over all "
                f"threads, {report.detections} detections)"
            )


if __name__ == "__main__":
    main()
