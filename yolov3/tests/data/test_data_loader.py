from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from yolov3.data import (
    DetectionDataset,
    Letterbox,
    build_loader,
    collate,
    letterbox,
    read_dataset,
)
from yolov3.data.letterbox import fit_letterbox


def test_letterbox_keeps_aspect_and_maps_boxes_both_ways():
    image = np.full((50, 100, 3), 7, np.uint8)  # h=50, w=100
    out, lb = letterbox(image, 64)
    assert out.shape == (64, 64, 3)
    assert lb == Letterbox(scale=0.64, pad_x=0.0, pad_y=16.0)
    assert (out[:16] == 114).all() and (out[48:] == 114).all() and (out[16:48] == 7).all()
    boxes = torch.tensor([[10.0, 5.0, 50.0, 25.0]])
    on_input = lb.to_input(boxes)
    torch.testing.assert_close(on_input, torch.tensor([[6.4, 19.2, 32.0, 32.0]]))
    torch.testing.assert_close(lb.to_original(on_input), boxes)
    np.testing.assert_allclose(
        lb.to_original(np.array([[0.0, 16.0, 64.0, 48.0]])), [[0, 0, 100, 50]]
    )


def test_letterbox_pads_a_tall_image_left_and_right():
    _, lb = letterbox(np.zeros((416, 208, 3), np.uint8), 416)
    assert (lb.scale, lb.pad_x, lb.pad_y) == (1.0, 104.0, 0.0)


def test_dataset_item_is_letterboxed_with_boxes_in_input_pixels(yolo_root: Path):
    data = read_dataset(yolo_root)
    ds = DetectionDataset(data, img_size=128)
    image, target, meta = ds[0]  # a.jpg 64x48 -> scale 2, pad_y 16
    assert image.shape == (3, 128, 128) and image.dtype == torch.float32
    assert image.min() >= 0 and image.max() <= 1
    assert meta["orig_size"] == (48, 64) and meta["path"].endswith("a.jpg")
    assert meta["letterbox"] == Letterbox(2.0, 0.0, 16.0)
    expected = torch.tensor([[0, 0, 16, 40, 80, 88], [0, 2, 64, 16, 128, 64]], dtype=torch.float32)
    torch.testing.assert_close(target, expected)
    _, empty, _ = ds[2]  # c.jpg: empty label file
    assert empty.shape == (0, 6)


def test_collate_writes_batch_index_and_concatenates_targets(yolo_root: Path):
    ds = DetectionDataset(read_dataset(yolo_root), img_size=64)
    images, targets, metas = collate([ds[2], ds[0], ds[1]])
    assert images.shape == (3, 3, 64, 64)
    assert targets[:, 0].tolist() == [1, 1, 2] and targets[:, 1].tolist() == [0, 2, 1]
    assert [Path(m["path"]).name for m in metas] == ["c.jpg", "a.jpg", "b.png"]


def test_loader_batches_without_shuffle_cover_the_dataset_in_order(yolo_root: Path):
    ds = DetectionDataset(read_dataset(yolo_root), img_size=64)
    loader = build_loader(ds, batch_size=3, shuffle=False)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [3, 1] and len(loader) == 2
    names = [Path(m["path"]).name for b in batches for m in b[2]]
    assert names == ["a.jpg", "b.png", "c.jpg", "d.jpg"]


def test_multiscale_changes_the_size_per_batch_only(yolo_root: Path):
    ds = DetectionDataset(read_dataset(yolo_root), img_size=416)
    loader = build_loader(ds, batch_size=1, shuffle=True, seed=3, multiscale=(320, 608))
    sizes = [images.shape[-1] for _ in range(3) for images, _, _ in loader]
    assert set(sizes) <= set(range(320, 609, 32)) and len(set(sizes)) > 3
    for images, targets, _ in build_loader(ds, batch_size=4, multiscale=(320, 608)):
        assert images.shape[-2] == images.shape[-1]
        assert (targets[:, 2:] <= images.shape[-1]).all()
    with pytest.raises(ValueError, match="multiples of 32"):
        build_loader(ds, batch_size=1, multiscale=(300, 608))


def test_shuffled_order_is_reproducible_and_changes_between_epochs(yolo_root: Path):
    ds = DetectionDataset(read_dataset(yolo_root), img_size=64)

    def orders(seed: int) -> list[list[str]]:
        loader = build_loader(ds, batch_size=4, shuffle=True, seed=seed)
        return [[m["path"] for m in metas] for _ in range(4) for _, _, metas in loader]

    first = orders(0)
    assert first == orders(0)
    assert len({tuple(o) for o in first}) > 1


def test_loader_accepts_a_distributed_sampler(yolo_root: Path):
    from torch.utils.data.distributed import DistributedSampler

    ds = DetectionDataset(read_dataset(yolo_root), img_size=64)
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=1)
        loader = build_loader(ds, batch_size=2, sampler=sampler, multiscale=(64, 128))
        loader.batch_sampler.set_epoch(1)
        assert sampler.epoch == 1
        batches = list(loader)
        seen += [m["index"] for _, _, metas in batches for m in metas]
        if rank == 0:
            sizes0 = [b[0].shape[-1] for b in batches]
        else:  # every rank draws the same sizes, so DDP batches stay in step
            assert [b[0].shape[-1] for b in batches] == sizes0
    assert sorted(seen) == [0, 1, 2, 3]


def test_epoch_of_a_distributed_sampler_decides_sizes_and_seeds(yolo_root: Path):
    from torch.utils.data.distributed import DistributedSampler

    ds = DetectionDataset(read_dataset(yolo_root), img_size=64, augment=True)

    def epoch_batches(epoch: int) -> list[torch.Tensor]:
        sampler = DistributedSampler(ds, num_replicas=1, rank=0, seed=2)
        loader = build_loader(ds, batch_size=1, sampler=sampler, multiscale=(64, 256))
        sampler.set_epoch(epoch)  # the sampler's own set_epoch is enough
        return [images for images, _, _ in loader]

    again = epoch_batches(3)  # a resumed run replays epoch 3 exactly
    assert all(torch.equal(a, b) for a, b in zip(epoch_batches(3), again, strict=True))
    other = epoch_batches(4)
    assert any(
        a.shape != b.shape or not torch.equal(a, b) for a, b in zip(other, again, strict=True)
    )


@given(
    height=st.integers(1, 3000),
    width=st.integers(1, 3000),
    size=st.sampled_from(list(range(320, 609, 32))),
)
def test_letterbox_mapping_fills_the_long_side_and_inverts(height: int, width: int, size: int):
    assume(min(height, width) * size / max(height, width) >= 1)  # at least one pixel row
    lb = fit_letterbox(height, width, size)
    whole = lb.to_input(torch.tensor([[0.0, 0.0, width, height]], dtype=torch.float64))[0]
    assert whole.min() >= -0.5 and whole.max() <= size + 0.5  # inside the square
    span = whole[2:] - whole[:2]
    assert max(span) == pytest.approx(size)  # the long side fills it
    # centred: integer padding (up to 1 px) plus rounding of the resized side (up to 0.5 px)
    assert abs(whole[0] - (size - whole[2])) <= 1.5 and abs(whole[1] - (size - whole[3])) <= 1.5
    box = torch.tensor([[0.1, 0.2, 0.7, 0.9]], dtype=torch.float64) * torch.tensor(
        [width, height, width, height]
    )
    torch.testing.assert_close(lb.to_original(lb.to_input(box)), box)
