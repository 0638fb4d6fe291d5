"""Our COCO evaluator against pycocotools on 5,000 images of synthetic detections.

Prints both times, the speed-up and the largest difference over the 12 summary numbers.
Run: ``python yolov3/benchmarks/bench_eval.py [--images 5000] [--classes 80]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def synthetic_set(
    rng: np.random.Generator, images: int, classes: int
) -> tuple[list[dict], list[dict]]:
    """COCO-like density: up to 15 objects per image, up to 100 detections jittered from
    them (so every IoU threshold matters) plus false alarms, scores with frequent ties."""
    preds, truths = [], []
    for _ in range(images):
        m = int(rng.integers(0, 16))
        xy = rng.uniform(0, 600, (m, 2))
        wh = np.exp(rng.uniform(np.log(4), np.log(400), (m, 2)))
        boxes, labels = np.c_[xy, xy + wh], rng.integers(0, classes, m)
        truths.append({"boxes": boxes, "labels": labels})
        n = int(rng.integers(0, 101))
        if m:
            src = rng.integers(0, m, n)
            det = boxes[src] + rng.normal(0, 0.15, (n, 4)) * np.c_[wh[src], wh[src]]
            det_labels = np.where(rng.random(n) < 0.85, labels[src], rng.integers(0, classes, n))
        else:
            xy = rng.uniform(0, 600, (n, 2))
            det = np.c_[xy, xy + rng.uniform(4, 200, (n, 2))]
            det_labels = rng.integers(0, classes, n)
        det = np.c_[np.minimum(det[:, :2], det[:, 2:]), np.maximum(det[:, :2], det[:, 2:])]
        preds.append({"boxes": det, "scores": np.round(rng.random(n), 3), "labels": det_labels})
    return preds, truths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--classes", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from yolov3.evaluate import evaluate_detections, evaluate_with_pycocotools

    preds, truths = synthetic_set(np.random.default_rng(args.seed), args.images, args.classes)
    n_det = sum(len(p["scores"]) for p in preds)
    n_gt = sum(len(t["labels"]) for t in truths)
    print(f"{args.images} images, {args.classes} classes, {n_gt} truths, {n_det} detections")
    start, cpu = time.perf_counter(), time.process_time()
    ours = evaluate_detections(preds, truths, args.classes).as_array()
    t_ours, c_ours = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    reference = evaluate_with_pycocotools(preds, truths, args.classes)
    t_ref, c_ref = time.perf_counter() - start, time.process_time() - cpu
    print(f"{'':13} {'wall s':>8} {'CPU s':>8}")
    print(f"{'ours':<13} {t_ours:8.2f} {c_ours:8.2f}")
    print(
        f"{'pycocotools':<13} {t_ref:8.2f} {c_ref:8.2f}  (index, evaluate, accumulate, summarize)"
    )
    print(f"{'speed-up':<13} {t_ref / t_ours:7.1f}x {c_ref / c_ours:7.1f}x")
    print(f"largest difference over the 12 numbers: {np.abs(ours - reference).max():.1e}")
    print(f"AP {ours[0]:.4f}  AP50 {ours[1]:.4f}  AR100 {ours[8]:.4f}")


if __name__ == "__main__":
    main()
