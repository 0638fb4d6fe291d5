"""Time and balance of the stratified split on a COCO-sized label set.

Draws 118,287 images (COCO train2017's count) holding 1-8 classes each from 80 classes with
a long-tailed frequency (class k is drawn with weight 1 / (k + 1)), 1% without objects, and
splits them 80/10/10 with :func:`yolov3.data.split.stratified_assignment`. Prints the
seconds, the split sizes and, over all classes, the largest gap between a class's image
count in a split and its exact share, beside the same figure for a seeded random split.

Run: ``python yolov3/benchmarks/bench_split.py [--images N]`` (no data needed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from yolov3.data.split import stratified_assignment

CLASSES, FRACTIONS = 80, (0.8, 0.1, 0.1)


def label_sets(images: int, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, CLASSES + 1)
    weights /= weights.sum()
    sizes = rng.integers(1, 9, images)
    sets = [rng.choice(CLASSES, size=n, p=weights).tolist() for n in sizes]
    for i in rng.choice(images, images // 100, replace=False):
        sets[i] = []
    return sets


def worst_gap(sets: list[list[int]], assign: np.ndarray) -> float:
    """Largest |images of class c in split j - share_j * images of class c|, over c and j."""
    member = np.zeros((len(sets), CLASSES), bool)
    for i, labels in enumerate(sets):
        member[i, labels] = True
    totals = member.sum(0)
    gaps = [np.abs(member[assign == j].sum(0) - f * totals).max() for j, f in enumerate(FRACTIONS)]
    return float(max(gaps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=118_287, help="images to split")
    args = parser.parse_args()
    sets = label_sets(args.images)
    start = time.perf_counter()
    assign = stratified_assignment(sets, FRACTIONS, seed=0)
    seconds = time.perf_counter() - start
    shuffled = np.random.default_rng(0).permutation(np.repeat([0, 1, 2], np.bincount(assign)))
    print(f"{args.images} images, {CLASSES} classes: split in {seconds:.2f} s")
    print(f"sizes {np.bincount(assign).tolist()} (exact shares of {FRACTIONS})")
    print(f"largest gap of a class from its share: stratified {worst_gap(sets, assign):.1f} images")
    print(f"  a random split of the same sizes: {worst_gap(sets, shuffled):.1f} images")


if __name__ == "__main__":
    main()
