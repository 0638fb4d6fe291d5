"""End-to-end ONNX against PyTorch on real images: the figures of the README's parity line.

Exports the official YOLOv3-tiny (shared data) with ``yolov3 export --nms``'s function, runs
the PyTorch :class:`~yolov3.predict.Detector` and the ONNX Runtime
:class:`~yolov3.predict.onnx_runtime.OnnxDetector` on every coco128 image (both splits) and
prints how their detections compare by the rule of :mod:`yolov3.predict.parity`.

    python yolov3/benchmarks/onnx_parity.py [--img-size 416] [--conf 0.25]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from yolov3.predict import Detector
from yolov3.predict.onnx_graph import export_onnx_nms
from yolov3.predict.onnx_runtime import OnnxDetector
from yolov3.predict.parity import compare_detections

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img-size", type=int, default=416)
    parser.add_argument("--conf", type=float, default=0.25)
    args = parser.parse_args()
    darknet = SHARED / "darknet"
    images = sorted(str(p) for p in (SHARED / "coco128" / "images").glob("*/*.jpg"))
    if not images or not (darknet / "yolov3-tiny.weights").is_file():
        print(f"onnx_parity: needs the shared coco128 and Darknet files in {SHARED}")
        return 2
    options = {"img_size": args.img_size, "conf_thresh": args.conf, "device": "cpu"}
    ours = Detector.from_darknet(
        darknet / "yolov3-tiny.cfg", darknet / "yolov3-tiny.weights", **options
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx_nms(ours.model, Path(tmp) / "tiny.onnx", args.img_size, args.conf)
        theirs = OnnxDetector(path)
        expected, actual = [], []
        for image in tqdm(images, desc="pytorch and onnx", unit="img"):
            expected += ours(image)
            actual += theirs(image)
    parity = compare_detections(expected, actual, args.conf)
    print(f"YOLOv3-tiny (official) at {args.img_size}, {len(images)} coco128 images, "
          f"score > {args.conf}: {parity.summary()}")  # fmt: skip
    return 0 if parity.equal else 1


if __name__ == "__main__":
    sys.exit(main())
