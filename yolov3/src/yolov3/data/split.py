"""Train / validation / test splits that keep each class's share in every split.

Stratification is iterative stratification (Sechidis, Tsoumakas and Vlahavas, "On the
stratification of multi-label data", 2011), which handles images holding several classes:
the class with the fewest images still unplaced goes first, and each of its images joins the
split that still lacks the most images of that class (ties: the split that lacks the most
images overall, then a draw from the seed). Images without objects count as one more
class. Each split gets exactly its share of the images (rounded by largest remainders), and
each class's share of every split is within about one image of its fraction.

The splits are lists of the source's own files, written where each format's reader looks
for them (:func:`write_splits`); images are never moved or copied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from yolov3.data.check import ready_for_training
from yolov3.data.formats import read_dataset
from yolov3.data.records import DatasetError, DetectionData

SPLIT_NAMES = ("train", "val", "test")
METHOD = "iterative stratification (Sechidis et al., 2011) over the classes in each image"


def check_fractions(val: float, test: float = 0.0) -> None:
    """Refuse fractions outside (0, 1) or that leave no training images.

    Raises:
        ValueError: one line naming the offending value.
    """
    if not 0 < val < 1:
        raise ValueError(
            f"the validation fraction must be between 0 and 1 (exclusive), got {val:g}"
        )
    if not 0 <= test < 1:
        raise ValueError(f"the test fraction must be between 0 and 1 (exclusive), got {test:g}")
    if val + test >= 1:
        raise ValueError(
            f"validation {val:g} + test {test:g} = {val + test:g} leaves no training images; "
            "their sum must be below 1"
        )


def _choose(
    candidates: np.ndarray, tie_break: np.ndarray, room: np.ndarray, rng: np.random.Generator
) -> int:
    """Among the splits with room left, the one with the largest ``candidates`` value, then
    the largest ``tie_break``, then a seeded draw."""
    candidates = np.where(room > 0, candidates, -np.inf)
    best = np.flatnonzero(candidates == candidates.max())
    if len(best) > 1:
        best = best[tie_break[best] == tie_break[best].max()]
    return int(best[0] if len(best) == 1 else rng.choice(best))


def _quotas(shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` items apportioned by ``shares`` in whole items (largest remainders first)."""
    exact = shares * n
    quotas = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quotas), kind="stable")
    quotas[order[: n - int(quotas.sum())]] += 1
    return quotas


def stratified_assignment(
    label_sets: Sequence[Sequence[int]], fractions: Sequence[float], seed: int = 0
) -> np.ndarray:
    """Assign each item to a split by iterative stratification (see the module docstring).

    Args:
        label_sets: per item, the classes it holds (repeats allowed; empty for none).
        fractions: per split, its share of the items (summing to 1).
        seed: the same seed and input give the same assignment.

    Returns:
        (np.ndarray[N] int64): per item, the index of its split.
    """
    rng = np.random.default_rng(seed)
    sets = [sorted({int(c) for c in labels}) for labels in label_sets]
    shares = np.asarray(fractions, np.float64)
    want_total = shares * len(sets)
    room = _quotas(shares, len(sets))  # exact split sizes, whatever the classes
    members: dict[int, list[int]] = {}
    for item in rng.permutation(len(sets)).tolist():  # a seeded order breaks remaining ties
        for c in sets[item]:
            members.setdefault(c, []).append(item)
    want = {c: shares * len(items) for c, items in members.items()}
    left = {c: len(items) for c, items in members.items()}
    assign = np.full(len(sets), -1, np.int64)
    while left:
        c = min(left, key=lambda k: (left[k], k))
        for item in members[c]:
            if assign[item] >= 0:
                continue
            j = _choose(want[c], want_total, room, rng)
            assign[item] = j
            want_total[j] -= 1
            room[j] -= 1
            for other in sets[item]:
                want[other][j] -= 1
                if other in left:
                    left[other] -= 1
        del left[c]
    for item in np.flatnonzero(assign < 0).tolist():
        j = _choose(want_total, np.zeros_like(want_total), room, rng)
        assign[item] = j
        want_total[j] -= 1
        room[j] -= 1
    return assign


def split_dataset(
    data: DetectionData, val: float, test: float = 0.0, seed: int = 0
) -> dict[str, list[int]]:
    """Stratified ``train``/``val`` (and ``test`` when ``test > 0``) record indices.

    Raises:
        ValueError: the fractions are outside (0, 1) or sum to 1 or more.
        DatasetError: a split would be empty (too few images).
    """
    check_fractions(val, test)
    fractions = [1 - val - test, val] + ([test] if test > 0 else [])
    names = SPLIT_NAMES[: len(fractions)]
    # images without objects are one more class, so that each split gets its share of them
    labels = [r.labels[r.labels >= 0].tolist() or [-1] for r in data.records]
    assign = stratified_assignment(labels, fractions, seed)
    parts = {name: np.flatnonzero(assign == i).tolist() for i, name in enumerate(names)}
    empty = [name for name, indices in parts.items() if not indices]
    if empty:
        raise DatasetError(
            f"{data.root}: {len(data.records)} images are too few for these fractions: the "
            f"{empty[0]} split would be empty"
        )
    return parts


def subset(data: DetectionData, indices: Sequence[int]) -> DetectionData:
    """The records at ``indices``, with the same classes (reader problems stay with ``data``)."""
    records = [data.records[i] for i in indices]
    return DetectionData(records, list(data.class_names), list(data.category_ids), [], data.root)


def holdout(
    data: DetectionData, val: float, seed: int = 0
) -> tuple[DetectionData, DetectionData, dict[str, list[int]]]:
    """Training and validation parts of a dataset without splits, stratified, in memory."""
    parts = split_dataset(data, val, 0.0, seed)
    return subset(data, parts["train"]), subset(data, parts["val"]), parts


def read_holdout(
    path: Path | str,
    fmt: str | None,
    val: float,
    seed: int,
    record: Path | None = None,
    say: Callable[[str], object] = print,
) -> tuple[DetectionData, DetectionData]:
    """Read a dataset without splits, ready for training, and hold out ``val`` of it.

    The split depends only on the dataset and ``seed``; with ``record``, it is written there
    as JSON (:func:`split_record`), so a run shows which images it validated on.
    """
    data = ready_for_training(read_dataset(path, fmt), say)
    train, held_out, parts = holdout(data, val, seed)
    if record is not None:
        doc = split_record(data, parts, seed, {"train": 1 - val, "val": val})
        record.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        say(
            f"split: {len(parts['train'])} training, {len(parts['val'])} validation images "
            f"(seed {seed}), listed in {record}"
        )
    return train, held_out


def split_record(
    data: DetectionData, parts: dict[str, list[int]], seed: int, fractions: dict[str, float]
) -> dict[str, object]:
    """What a run keeps of its split (``split.json``): how it was made and every image."""
    return {
        "source": str(data.root),
        "method": METHOD,
        "seed": seed,
        "fractions": fractions,
        "counts": {name: len(indices) for name, indices in parts.items()},
        **{name: [str(data.records[i].path) for i in indices] for name, indices in parts.items()},
    }


def split_table(data: DetectionData, parts: dict[str, list[int]]) -> str:
    """Per class: images and boxes in each split, and each split's share of the class's
    images; then images without objects and the totals."""
    names = list(parts)
    counts = {name: _counts(data, indices) for name, indices in parts.items()}
    width = max([len(n) for n in data.class_names] + [12])
    header = f"{'class':<{width}}" + "".join(f"{n + ' img':>12}{'box':>7}{'%':>7}" for n in names)
    rows = [header]
    for c, class_name in enumerate([*data.class_names, "(no objects)", "all images"]):
        total = sum(int(counts[n][0][c]) for n in names) or 1
        cells = [
            f"{counts[n][0][c]:>12}{counts[n][1][c]:>7}{100 * counts[n][0][c] / total:>6.1f}%"
            for n in names
        ]
        rows.append(f"{class_name:<{width}}" + "".join(cells))
    return "\n".join(rows)


def _counts(data: DetectionData, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Images and boxes per class (C + 2 entries: the classes, images without objects, all)."""
    c = data.num_classes
    images, boxes = np.zeros(c + 2, np.int64), np.zeros(c + 2, np.int64)
    for i in indices:
        labels = data.records[i].labels
        known = labels[(labels >= 0) & (labels < c)]
        boxes[:c] += np.bincount(known, minlength=c)
        images[np.unique(known)] += 1
        images[c] += len(known) == 0
        boxes[c + 1] += len(labels)
    images[c + 1] = len(indices)
    return images, boxes


def existing_split_files(paths: Sequence[Path]) -> list[Path]:
    """Those of ``paths`` that already exist (a file, a link or a folder)."""
    return [p for p in paths if p.exists() or p.is_symlink()]
