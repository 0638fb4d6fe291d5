"""Photos as users take them: EXIF orientation applied wherever images are read; truncated
JPEGs named by ``data check --deep``."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from yolov3.cli import main
from yolov3.data import check_dataset, load_image, read_dataset
from yolov3.data.layout import image_size

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"


def _upright(width=64, height=40):
    """A picture with a bright top-left block: where it ends up shows the orientation."""
    pixels = np.full((height, width, 3), 40, np.uint8)
    pixels[:10, :20] = 250
    return pixels


def save_sideways(pixels: np.ndarray, path: Path) -> Path:
    """Store the picture turned 90° counter-clockwise with EXIF orientation 6, as a phone
    held upright stores it: viewers turn it back 90° clockwise."""
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.ascontiguousarray(np.rot90(pixels, 1))).save(
        path, quality=100, exif=exif.tobytes()
    )
    return path


def _yolo_dataset(root: Path, images: dict[str, np.ndarray], sideways=()) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "names.txt").write_text("block\n")
    for name, pixels in images.items():
        path = root / "images" / f"{name}.jpg"
        if name in sideways:
            save_sideways(pixels, path)
        else:
            Image.fromarray(pixels).save(path, quality=100)
        h, w = pixels.shape[:2]  # the box is labelled on the upright picture
        (root / "labels" / f"{name}.txt").write_text(
            f"0 {10 / w:.6f} {5 / h:.6f} {20 / w:.6f} {10 / h:.6f}\n"
        )
    return root


def test_images_are_read_upright_with_their_oriented_size(tmp_path):
    upright = _upright()
    path = save_sideways(upright, tmp_path / "side.jpg")
    with Image.open(path) as stored:
        assert stored.size == (40, 64)  # stored sideways
    assert image_size(path) == (64, 40)
    decoded = load_image(path)
    assert decoded.shape == upright.shape
    assert np.abs(decoded.astype(int) - upright).mean() < 3


def test_dataset_sizes_and_check_report_the_rotation(tmp_path):
    root = _yolo_dataset(tmp_path / "d", {"a": _upright(), "b": _upright()}, sideways={"b"})
    data = read_dataset(root, "yolo")
    assert [(r.width, r.height) for r in data.records] == [(64, 40), (64, 40)]
    report = check_dataset(data)
    assert report.ok  # the boxes fit the upright picture
    rotated = [p for p in report.problems if p.kind == "exif_rotation"]
    assert len(rotated) == 1 and rotated[0].where.endswith("b.jpg")
    assert "EXIF orientation 6 (rotated 90° clockwise)" in rotated[0].message
    from yolov3.data import DetectionDataset

    dataset = DetectionDataset(data, 64, augment=False)
    a, b = dataset[0], dataset[1]
    assert (a[0].float() - b[0].float()).abs().mean() < 3  # the same upright training input


def test_check_deep_names_a_truncated_jpeg(tmp_path, capsys):
    noise = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    root = _yolo_dataset(tmp_path / "d", {"a": _upright(), "b": noise})
    full = (root / "images" / "b.jpg").read_bytes()
    (root / "images" / "b.jpg").write_bytes(full[: len(full) * 3 // 4])
    assert check_dataset(read_dataset(root, "yolo")).ok  # the header alone looks fine
    assert main(["data", "check", str(root), "--deep"]) == 1
    out = capsys.readouterr().out
    assert "b.jpg" in out and "truncated" in out


@pytest.mark.skipif(
    not (SHARED / "darknet" / "yolov3-tiny.weights").is_file(),
    reason=f"no Darknet files in {SHARED}",
)
def test_a_sideways_photo_gives_the_upright_detections(tmp_path):
    from yolov3.predict import Detector

    darknet = SHARED / "darknet"
    upright = cv2.cvtColor(cv2.imread(str(darknet / "images" / "dog.jpg")), cv2.COLOR_BGR2RGB)
    path = save_sideways(upright, tmp_path / "dog_sideways.jpg")
    detector = Detector.from_darknet(
        darknet / "yolov3-tiny.cfg", darknet / "yolov3-tiny.weights", device="cpu"
    )
    want = detector(darknet / "images" / "dog.jpg")[0]
    got = detector(path)[0]
    assert len(want["labels"]) > 0
    assert sorted(got["labels"].tolist()) == sorted(want["labels"].tolist())
