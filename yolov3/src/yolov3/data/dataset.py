"""Dataset, collate and loader: records -> letterboxed, optionally augmented batches.

Randomness: the loader's batch sampler draws, in the main process, the input size of each
batch and a seed for each item (from ``seed``, the epoch and the image index). Every random
choice of an item comes from its own seed, so a run is identical for any number of workers,
and no two workers (or epochs) share a random stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler, SequentialSampler

from yolov3.data.letterbox import fit_letterbox, letterbox, load_image
from yolov3.data.records import DetectionData
from yolov3.data.transforms import Augmentation, augment_sample, mosaic

Key = tuple[int, int, int]  # (image index, input size, item seed)
Item = tuple[Tensor, Tensor, dict[str, Any]]


def item_seed(seed: int, epoch: int, index: int) -> int:
    """A 32-bit seed unique to (run seed, epoch, image index)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


class DetectionDataset(Dataset[Item]):
    """Letterboxed (and, with ``augment``, augmented) images with their boxes.

    An item is ``(image, target, meta)``:

    - ``image`` (Tensor[3, S, S] float32 in 0..1), RGB.
    - ``target`` (Tensor[n, 6]): ``(0, cls, x1, y1, x2, y2)`` input pixels; :func:`collate`
      writes the batch index into column 0. ``n`` may be 0.
    - ``meta``: ``path`` (str), ``orig_size`` ``(h, w)``, ``letterbox``
      (:class:`Letterbox` from original to input pixels; exact when ``augment`` is off),
      ``index``.

    Index with an int (size ``img_size``, seed from ``seed`` and the index) or with the
    ``(index, size, seed)`` keys that :func:`build_loader`'s batch sampler yields.

    Args:
        data: the records and class names.
        img_size: square input size S (a multiple of 32).
        augment: random affine, flip and colour jitter (see :class:`Augmentation`).
        mosaic: with ``augment``, combine four images with probability ``aug.mosaic_prob``.
        seed: the run seed.
        aug: augmentation strengths.
        drop_difficult: leave out boxes flagged difficult / crowd.
    """

    def __init__(
        self,
        data: DetectionData,
        img_size: int = 416,
        augment: bool = False,
        mosaic: bool = False,
        seed: int = 0,
        aug: Augmentation | None = None,
        drop_difficult: bool = False,
    ) -> None:
        if img_size % 32:
            raise ValueError(f"img_size must be a multiple of 32, got {img_size}")
        self.data = data
        self.img_size = img_size
        self.augment = augment
        self.mosaic = mosaic
        self.seed = seed
        self.aug = aug or Augmentation()
        self.drop_difficult = drop_difficult

    def __len__(self) -> int:
        return len(self.data.records)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image (HWC uint8 RGB), boxes (xyxy original pixels, float32) and labels."""
        record = self.data.records[index]
        image = load_image(record.path)
        keep = ~record.difficult if self.drop_difficult else np.ones(len(record.boxes), bool)
        keep &= (record.labels >= 0) & (record.labels < self.data.num_classes)
        return image, record.boxes[keep].astype(np.float32), record.labels[keep]

    def __getitem__(self, key: int | Key) -> Item:
        if isinstance(key, tuple):
            index, size, seed = key
        else:
            index, size, seed = int(key), self.img_size, item_seed(self.seed, 0, int(key))
        rng = np.random.default_rng(seed)
        image, boxes, labels = self.load(index)
        orig_size = image.shape[:2]
        if self.augment and self.mosaic and rng.random() < self.aug.mosaic_prob:
            lb = fit_letterbox(image.shape[0], image.shape[1], size)
            others = rng.integers(0, len(self), 3)
            parts = [(image, boxes, labels)] + [self.load(int(i)) for i in others]
            image, boxes, labels = mosaic(
                parts, size, rng, self.aug.min_visible, self.aug.min_box_size
            )
        else:
            image, lb = letterbox(image, size, fast=self.augment)
            boxes = lb.to_input(boxes)
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        box_t = torch.from_numpy(boxes).float().reshape(-1, 4)
        label_t = torch.from_numpy(labels).long()
        if self.augment:
            tensor, box_t, label_t = augment_sample(tensor, box_t, label_t, self.aug, seed)
        target = torch.zeros(len(box_t), 6)
        target[:, 1] = label_t.float()
        target[:, 2:] = box_t
        meta = {
            "path": str(self.data.records[index].path),
            "orig_size": orig_size,
            "letterbox": lb,
            "index": index,
        }
        return tensor.float().div_(255), target, meta


def collate(batch: Sequence[Item]) -> tuple[Tensor, Tensor, list[dict[str, Any]]]:
    """Stack a batch.

    Returns:
        images (Tensor[B, 3, S, S]), targets (Tensor[M, 6]) rows ``(batch_idx, cls, x1, y1,
        x2, y2)`` in input pixels, and the list of metas.
    """
    images, targets, metas = zip(*batch, strict=True)
    rows = []
    for i, target in enumerate(targets):
        target = target.clone()
        target[:, 0] = i
        rows.append(target)
    return torch.stack(images), torch.cat(rows) if rows else torch.zeros(0, 6), list(metas)


class ScaleBatchSampler(Sampler[list[Key]]):
    """Batches of ``(index, size, seed)`` keys: one input size per batch, one seed per item.

    Args:
        sampler: yields image indices (sequential, random or a ``DistributedSampler``).
        batch_size, drop_last: as for ``torch.utils.data.BatchSampler``.
        img_size: the size when ``sizes`` is None.
        sizes: the input sizes to draw from per batch (multi-scale training).
        seed: the run seed. Sizes depend only on (seed, epoch, batch number), so every
            distributed rank draws the same sizes.
    """

    def __init__(
        self,
        sampler: Sampler[int] | Sequence[int],
        batch_size: int,
        drop_last: bool,
        img_size: int,
        sizes: Sequence[int] | None,
        seed: int,
    ) -> None:
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.img_size = img_size
        self.sizes = list(sizes) if sizes else None
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (forwarded to a sampler that has ``set_epoch``)."""
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[list[Key]]:
        # A sampler with an epoch (DistributedSampler) is the authority, so that sizes and
        # seeds follow its set_epoch and a resumed run replays the same epoch. Otherwise
        # count passes, so the next pass differs even if nobody calls set_epoch.
        epoch = getattr(self.sampler, "epoch", None)
        if epoch is None:
            epoch = self.epoch
            self.epoch += 1
        size_rng = np.random.default_rng([self.seed, epoch, 0x5CA1E])
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield self._keys(batch, size_rng, epoch)
                batch = []
        if batch and not self.drop_last:
            yield self._keys(batch, size_rng, epoch)

    def _keys(self, batch: list[int], rng: np.random.Generator, epoch: int) -> list[Key]:
        size = int(rng.choice(self.sizes)) if self.sizes else self.img_size
        return [(i, size, item_seed(self.seed, epoch, i)) for i in batch]


def init_worker(worker_id: int) -> None:
    """Prepare a loader worker process.

    Seeds numpy and ``random`` from torch's per-worker seed, so libraries that use the
    global generators do not repeat one stream in every worker.

    It makes no OpenCV call: reconfiguring OpenCV's thread pool in a forked child can wait
    forever on a lock inherited from the parent (see ``yolov3/__init__.py``, which turns
    the pool off in every process before first use, so the workers need no setting).
    """
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def multiscale_sizes(spec: Sequence[int]) -> list[int]:
    """``(min, max)`` or ``(min, max, step)`` -> the sizes, step 32 by default."""
    low, high, *rest = spec
    step = rest[0] if rest else 32
    if low % 32 or high % 32 or step % 32 or low > high:
        raise ValueError(f"multiscale {tuple(spec)}: need min <= max, multiples of 32")
    return list(range(low, high + 1, step))


def build_loader(
    dataset: DetectionDataset,
    batch_size: int,
    shuffle: bool = False,
    workers: int = 0,
    seed: int = 0,
    multiscale: tuple[int, ...] | None = None,
    sampler: Sampler[int] | None = None,
    drop_last: bool = False,
    pin_memory: bool = False,
) -> DataLoader:
    """A ``DataLoader`` yielding :func:`collate` batches.

    Args:
        dataset: the dataset.
        batch_size: images per batch (per process with a ``DistributedSampler``).
        shuffle: random order, reshuffled every epoch (ignored when ``sampler`` is given).
        workers: worker processes (0 loads in the main process).
        seed: makes order, sizes and augmentation reproducible.
        multiscale: ``(min, max[, step])``, e.g. ``(320, 608)``: each batch gets a size drawn
            from that range, step 32; None keeps ``dataset.img_size``.
        sampler: e.g. ``DistributedSampler(dataset, seed=seed)``; call
            ``loader.batch_sampler.set_epoch(epoch)`` (or the sampler's) every epoch.
        drop_last: drop the last incomplete batch.
        pin_memory: page-locked batches for faster host-to-GPU copies.
    """
    if sampler is None:
        generator = torch.Generator().manual_seed(seed)
        sampler = (
            RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        )
    sizes = multiscale_sizes(multiscale) if multiscale else None
    batch_sampler = ScaleBatchSampler(sampler, batch_size, drop_last, dataset.img_size, sizes, seed)
    # Workers start the platform's default way (fork on Linux): fast, and a user's script
    # needs no ``if __name__ == "__main__"`` guard, which forkserver and spawn would demand
    # of it. Fork is safe here because OpenCV's pool is off in every yolov3 process and
    # init_worker touches no library lock (tests/data/test_data_loader_fork.py).
    return DataLoader(
        dataset,
        batch_sampler=batch_sampler,
        num_workers=workers,
        collate_fn=collate,
        worker_init_fn=init_worker,
        generator=torch.Generator().manual_seed(seed),
        pin_memory=pin_memory,
        persistent_workers=workers > 0,
    )
