"""Loader throughput on coco128 beside the time of one YOLOv3-tiny training step.

Prints images/s of ``build_loader`` at 416 with augmentation (affine, flip, HSV jitter,
with and without mosaic) and 2 workers, and the seconds of one training step (forward,
loss, backward, SGD step) of YOLOv3-tiny at batch 16 in this process. The loader is not
the bottleneck when it delivers a batch of 16 faster than the step consumes it.

Run: ``python yolov3/benchmarks/bench_loader.py`` (reads ``<repo>/../shared/data/coco128``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from yolov3.config import ModelConfig
from yolov3.data import DetectionDataset, build_loader, read_dataset

COCO128 = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "coco128"


def loader_rate(
    dataset: DetectionDataset, batch_size: int, workers: int, batches: int
) -> tuple[float, float]:
    """(images/s over ``batches`` batches after the first, seconds to the first batch)."""
    loader = build_loader(dataset, batch_size, shuffle=True, workers=workers, seed=0)
    start = time.perf_counter()
    iterator = iter(loader)
    seen, done, first = 0, 0, 0.0
    while done < batches + 1:
        try:
            images, _, _ = next(iterator)
        except StopIteration:
            iterator = iter(loader)
            continue
        if done == 0:
            first = time.perf_counter() - start
            start = time.perf_counter()
        else:
            seen += images.shape[0]
        done += 1
    return seen / (time.perf_counter() - start), first


def train_step_seconds(batch_size: int, img_size: int, steps: int) -> tuple[float, str] | None:
    """Median seconds of one YOLOv3-tiny training step, and what loss it used."""
    try:
        from yolov3.model import build_model
    except ImportError:
        return None
    config = ModelConfig.tiny()
    model = build_model(config).train()
    try:
        from yolov3.train.loss import YoloLoss

        criterion, name = YoloLoss(config), "YoloLoss"
    except ImportError:
        criterion, name = None, "sum of squared outputs (yolov3.train.loss not available)"
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    images = torch.rand(batch_size, 3, img_size, img_size)
    boxes = torch.tensor([[60.0, 80.0, 200.0, 300.0], [10.0, 10.0, 50.0, 40.0]])
    targets = torch.cat(
        [torch.tensor([[i, i % 80, *b] for i in range(batch_size) for b in boxes.tolist()])]
    )
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        outputs = model(images)
        if criterion is not None:
            loss = criterion(outputs, targets)["total"]
        else:
            loss = sum((o**2).mean() for o in outputs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])  # the first step pays for allocation warm-up
    return times[len(times) // 2], name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=COCO128, help="YOLO txt dataset")
    parser.add_argument("--split", default="train2017")
    parser.add_argument("--img-size", type=int, default=416)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=16, help="timed batches per setting")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if not args.data.is_dir():
        print(f"skipped: {args.data.resolve()} not found (see shared/data/README.md)")
        return 0
    data = read_dataset(args.data, split=args.split)
    print(
        f"loader: {args.data.name}/{args.split}, {len(data.records)} images, "
        f"{args.img_size}x{args.img_size}, batch {args.batch_size}, "
        f"{args.workers} workers, torch threads {torch.get_num_threads()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    settings = [
        ("letterbox only", dict(augment=False)),
        ("affine+flip+hsv", dict(augment=True)),
        ("affine+flip+hsv+mosaic", dict(augment=True, mosaic=True)),
    ]
    rates = {}
    for label, kwargs in settings:
        dataset = DetectionDataset(data, args.img_size, seed=0, **kwargs)
        rate, first = loader_rate(dataset, args.batch_size, args.workers, args.batches)
        rates[label] = rate
        print(f"  {label:<24} {rate:7.1f} images/s   (first batch after {first:.2f} s)")
    # No workers, one torch thread as in a worker: the cost of an image on one core, to
    # size the workers for a GPU.
    torch.set_num_threads(1)
    single = DetectionDataset(data, args.img_size, augment=True, mosaic=True, seed=0)
    rate, _ = loader_rate(single, args.batch_size, 0, max(2, args.batches // 4))
    torch.set_num_threads(2)
    label = "mosaic, no workers"
    print(f"  {label:<24} {rate:7.1f} images/s   (one core: {1000 / rate:.0f} ms/image)")
    step = train_step_seconds(args.batch_size, args.img_size, args.steps)
    if step is None:
        print("train step: yolov3.model has not landed; no step time to compare with")
        return 0
    seconds, loss_name = step
    need = args.batch_size / seconds
    print(
        f"YOLOv3-tiny train step, batch {args.batch_size} at {args.img_size}, CPU, "
        f"{loss_name}: {seconds:.2f} s = {need:.1f} images/s consumed"
    )
    for label, rate in rates.items():
        print(f"  {label:<24} loader/step ratio {rate / need:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
