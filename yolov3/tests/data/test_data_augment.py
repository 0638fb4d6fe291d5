from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from yolov3.data import Augmentation, DetectionDataset, build_loader, read_dataset

# No colour jitter, so white stays white and black stays black; geometry only.
GEOMETRY = Augmentation(brightness=0, saturation=0, hue=0)


def boxed_dataset(root: Path, boxes: list[tuple[int, int, int, int]], size=(120, 90)) -> Path:
    """One image per box: black, with the box painted white, labelled with that box."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "names.txt").write_text("thing\n")
    w, h = size
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        pixels = np.zeros((h, w, 3), np.uint8)
        pixels[y1:y2, x1:x2] = 255
        Image.fromarray(pixels).save(root / "images" / f"{i}.png")
        cx, cy, bw, bh = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h
        (root / "labels" / f"{i}.txt").write_text(f"0 {cx} {cy} {bw} {bh}\n")
    return root


def white_mask(image: torch.Tensor) -> torch.Tensor:
    return image.min(0).values > 0.5  # (S, S) bool


def mask_bounds(mask: torch.Tensor) -> list[int]:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


@pytest.mark.parametrize("seed", range(8))
def test_affine_and_flip_keep_the_box_on_the_drawn_object(tmp_path: Path, seed: int):
    root = boxed_dataset(tmp_path / "d", [(20, 15, 70, 60)])
    plain = DetectionDataset(read_dataset(root), img_size=128)
    image, target, _ = plain[0]
    assert mask_bounds(white_mask(image)) == pytest.approx(target[0, 2:].tolist(), abs=1)
    ds = DetectionDataset(read_dataset(root), img_size=128, augment=True, aug=GEOMETRY)
    image, target, _ = ds[(0, 128, seed)]
    mask = white_mask(image)
    if len(target) == 0:  # shifted or shrunk out of the picture: then nothing is visible
        assert mask.sum() < 2 * 2 * 4
        return
    assert len(target) == 1
    assert mask_bounds(mask) == pytest.approx(target[0, 2:].tolist(), abs=1.5)


def test_flip_mirrors_box_and_pixels(tmp_path: Path):
    root = boxed_dataset(tmp_path / "d", [(0, 0, 30, 90)], size=(120, 90))
    flip_only = Augmentation(scale=(1.0, 1.0), translate=0, flip_prob=1.0, brightness=0,
                             saturation=0, hue=0)  # fmt: skip
    ds = DetectionDataset(read_dataset(root), img_size=96, augment=True, aug=flip_only)
    image, target, _ = ds[0]
    # 120x90 -> 96x72 with 12 px padding on top: the left strip 0..24 becomes 72..96
    torch.testing.assert_close(target[0, 2:], torch.tensor([72.0, 12.0, 96.0, 84.0]))
    assert mask_bounds(white_mask(image)) == [72, 12, 96, 84]


def test_mosaic_boxes_cover_white_objects(tmp_path: Path):
    boxes = [(10, 10, 50, 40), (60, 20, 110, 80), (5, 50, 40, 85), (40, 5, 100, 45)]
    root = boxed_dataset(tmp_path / "d", boxes)
    ds = DetectionDataset(read_dataset(root), 160, augment=True, mosaic=True, aug=GEOMETRY)
    counted = 0
    for seed in range(6):
        image, target, _ = ds[(seed % 4, 160, seed)]
        mask = white_mask(image)
        covered = torch.zeros_like(mask)
        for x1, y1, x2, y2 in target[:, 2:].round().long().tolist():
            region = mask[y1:y2, x1:x2]
            assert region.float().mean() > 0.85  # the box sits on white pixels
            covered[y1:y2, x1:x2] = True
            counted += 1
        # white pixels outside every box belong to objects cut below the visibility limit
        assert (mask & ~covered).sum() <= 0.25 * mask.sum() + 16
    assert counted >= 6


def test_same_seed_same_item_and_global_rng_untouched(yolo_root: Path):
    ds = DetectionDataset(read_dataset(yolo_root), 64, augment=True, mosaic=True)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    a_image, a_target, _ = ds[(0, 64, 11)]
    assert torch.equal(torch.rand(3), expected)
    b_image, b_target, _ = ds[(0, 64, 11)]
    assert torch.equal(a_image, b_image) and torch.equal(a_target, b_target)
    c_image, _, _ = ds[(0, 64, 12)]
    assert not torch.equal(a_image, c_image)


def test_workers_do_not_repeat_streams_and_runs_repeat(tmp_path: Path):
    root = boxed_dataset(tmp_path / "d", [(20, 15, 70, 60)] * 6)  # six identical images
    ds = DetectionDataset(read_dataset(root), 64, augment=True)

    def run(workers: int) -> list[torch.Tensor]:
        loader = build_loader(ds, batch_size=2, shuffle=True, workers=workers, seed=7)
        return [images for _ in range(2) for images, _, _ in loader]

    with_workers = run(2)
    images = torch.cat(with_workers)
    assert len({img.numpy().tobytes() for img in images}) == len(images)  # all different
    # identical for any number of workers, and again for the same seed
    for a, b in zip(with_workers, run(0), strict=True):
        assert torch.equal(a, b)


def test_hsv_jitter_changes_colour_only_and_follows_the_seed(tmp_path: Path):
    root = boxed_dataset(tmp_path / "d", [(20, 15, 70, 60)], size=(128, 128))
    colour = Augmentation(
        scale=(1.0, 1.0), translate=0, flip_prob=0, hue=0.5, saturation=0.7, brightness=0.4
    )
    ds = DetectionDataset(read_dataset(root), img_size=128, augment=True, aug=colour)
    plain_image, plain_target, _ = DetectionDataset(read_dataset(root), img_size=128)[0]
    grey = plain_image[:, 100, 100]  # background-free spot: black stays black
    values = set()
    for seed in range(5):
        image, target, _ = ds[(0, 128, seed)]
        torch.testing.assert_close(target, plain_target)  # boxes untouched
        assert torch.equal(image[:, 100, 100], grey)
        white = image[:, 30, 40]  # white: no hue or saturation, value gain clips or darkens
        assert white[0] == white[1] == white[2]
        values.add(round(float(white[0]), 3))
    assert len(values) > 1


def test_random_hsv_turns_hue_and_keeps_other_entries():
    import cv2
    from torchvision import tv_tensors

    from yolov3.data.transforms import RandomHSV

    green = torch.zeros(3, 8, 8, dtype=torch.uint8)
    green[1] = 255  # OpenCV hue 60
    sample = {"image": tv_tensors.Image(green), "labels": torch.tensor([3])}
    assert torch.equal(RandomHSV(0, 0, 0)(sample)["image"], green)
    torch.manual_seed(0)
    hues = set()
    for _ in range(5):
        out = RandomHSV(0.5, 0, 0)(sample)
        assert isinstance(out["image"], tv_tensors.Image) and out["labels"] is sample["labels"]
        pixel = out["image"][:, 0, 0].numpy().reshape(1, 1, 3)
        hue = int(cv2.cvtColor(pixel, cv2.COLOR_RGB2HSV)[0, 0, 0])
        assert 30 - 2 <= hue <= 90 + 2  # 60 * gain, gain in 0.5..1.5
        hues.add(hue)
    assert len(hues) > 2
