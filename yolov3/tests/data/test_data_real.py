"""Round trips on the real datasets in ``<repo>/../shared/data`` (skipped when absent)."""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from yolov3.data import check_dataset, read_dataset, write_dataset

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
COCO128 = SHARED / "coco128"
RACCOON = SHARED / "raccoon"


def need(path: Path) -> None:
    if not path.is_dir():
        pytest.skip(f"real test data not found at {path.resolve()} (see shared/data/README.md)")


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def yolo_truth(root: Path, split: str) -> dict[str, list[tuple[int, list[float]]]]:
    """Labels parsed directly from the txt files, as COCO xywh pixels per image file name."""
    truth = {}
    for image in sorted((root / "images" / split).glob("*.jpg")):
        width, height = image_size(image)
        label = root / "labels" / split / f"{image.stem}.txt"
        rows = []
        for line in label.read_text().splitlines() if label.exists() else []:
            cls, cx, cy, w, h = line.split()
            cx, w = float(cx) * width, float(w) * width
            cy, h = float(cy) * height, float(h) * height
            rows.append((int(cls), [cx - w / 2, cy - h / 2, w, h]))
        truth[image.name] = rows
    return truth


def test_coco128_yolo_to_coco_json_reads_back_in_pycocotools(tmp_path: Path):
    need(COCO128)
    from pycocotools.coco import COCO

    data = read_dataset(COCO128, split="train2017")
    assert len(data.records) == 128 and data.num_classes == 80
    write_dataset(data, tmp_path / "coco", "coco", split="train2017", images="link")
    coco = COCO(str(tmp_path / "coco" / "annotations" / "instances_train2017.json"))
    names = (COCO128 / "names.txt").read_text().split("\n")[:80]
    assert [coco.cats[i]["name"] for i in sorted(coco.cats)] == names
    assert sorted(coco.cats) == list(range(1, 81))
    truth = yolo_truth(COCO128, "train2017")
    by_name = {img["file_name"]: img for img in coco.dataset["images"]}
    assert sorted(by_name) == sorted(truth)
    for name, rows in truth.items():
        image = by_name[name]
        assert (image["width"], image["height"]) == image_size(
            COCO128 / "images" / "train2017" / name
        )
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        assert [a["category_id"] - 1 for a in anns] == [cls for cls, _ in rows]
        got = np.array([a["bbox"] for a in anns]).reshape(-1, 4)
        np.testing.assert_allclose(got, np.array([b for _, b in rows]).reshape(-1, 4), atol=1e-6)
    assert len(coco.anns) == sum(len(r) for r in truth.values()) == 929
    # and our reader reads the JSON back to the same records
    back = read_dataset(tmp_path / "coco", split="train2017")
    for a, b in zip(data.records, back.records, strict=True):
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-6)
        assert a.labels.tolist() == b.labels.tolist()


def voc_boxes(xml: Path) -> list[tuple]:
    root = ET.parse(xml).getroot()
    size = tuple(root.find("size").find(t).text for t in ("width", "height"))
    rows = [size]
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        coords = tuple(int(float(box.find(t).text)) for t in ("xmin", "ymin", "xmax", "ymax"))
        rows.append((obj.find("name").text, int(obj.find("difficult").text), coords))
    return rows


def test_raccoon_voc_to_yolo_to_voc_gives_identical_boxes(tmp_path: Path):
    need(RACCOON)
    data = read_dataset(RACCOON)
    assert len(data.records) == 200 and data.num_boxes == 217
    assert check_dataset(data).ok
    write_dataset(data, tmp_path / "yolo", "yolo", images="link")
    write_dataset(read_dataset(tmp_path / "yolo"), tmp_path / "voc", "voc", images="link")
    originals = sorted((RACCOON / "annotations").glob("*.xml"))
    assert len(originals) == 200
    for xml in originals:
        assert voc_boxes(tmp_path / "voc" / "Annotations" / xml.name) == voc_boxes(xml), xml
    assert (tmp_path / "voc" / "labels.txt").read_text() == "raccoon\n"
