import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import NAMES, write_image

from yolov3.cli import main
from yolov3.data import (
    DatasetError,
    DetectionData,
    ImageRecord,
    detect_format,
    read_dataset,
    write_dataset,
)


def assert_same(a: DetectionData, b: DetectionData, atol: float) -> None:
    assert a.class_names == b.class_names and a.category_ids == b.category_ids
    assert [r.path.name for r in a.records] == [r.path.name for r in b.records]
    for ra, rb in zip(a.records, b.records, strict=True):
        assert (ra.width, ra.height) == (rb.width, rb.height)
        np.testing.assert_allclose(ra.boxes, rb.boxes, atol=atol)
        np.testing.assert_array_equal(ra.labels, rb.labels)


def test_yolo_reader_gives_pixel_boxes_names_and_sizes(yolo_root: Path):
    data = read_dataset(yolo_root)
    assert detect_format(yolo_root) == "yolo"
    assert data.class_names == NAMES and data.category_ids == [1, 2, 3]
    assert [r.path.name for r in data.records] == ["a.jpg", "b.png", "c.jpg", "d.jpg"]
    a = data.records[0]
    assert (a.width, a.height) == (64, 48)
    np.testing.assert_allclose(a.boxes, [[8, 12, 40, 36], [32, 0, 64, 24]])
    assert a.labels.tolist() == [0, 2] and a.sources == ["line 1", "line 2"]
    assert data.records[3].annotation is None and len(data.records[3].boxes) == 0


@pytest.mark.parametrize("path", [("yolo", "coco", "yolo"), ("yolo", "voc", "coco", "yolo")])
def test_round_trips_keep_boxes_names_ids_and_order(yolo_root: Path, tmp_path: Path, path):
    original = read_dataset(yolo_root)
    data, here = original, yolo_root
    for step, fmt in enumerate(path[1:]):
        here = tmp_path / f"{step}-{fmt}"
        write_dataset(data, here, fmt)
        assert detect_format(here) == fmt
        data = read_dataset(here)
    # VOC keeps integer pixels: these boxes are whole pixels, so nothing is lost even there.
    assert_same(original, data, atol=1e-4)


def test_coco_category_ids_survive_yolo_and_voc(tmp_path: Path):
    image = write_image(tmp_path / "src" / "x.jpg", 50, 40)
    record = ImageRecord(
        image, 50, 40, [[1.25, 2.5, 30.75, 20.0], [5, 5, 45, 35]], [1, 0], [False, True],
        image_id=42,
    )  # fmt: skip
    coco = DetectionData([record], ["person", "zebra"], category_ids=[90, 7])
    write_dataset(coco, tmp_path / "coco", "coco")
    doc = json.loads((tmp_path / "coco/annotations/instances.json").read_text())
    assert [c["id"] for c in doc["categories"]] == [90, 7]
    assert [a["category_id"] for a in doc["annotations"]] == [7, 90]
    assert doc["images"][0]["id"] == 42 and [a["iscrowd"] for a in doc["annotations"]] == [0, 1]
    back = read_dataset(tmp_path / "coco")
    assert_same(coco, back, atol=1e-9)
    assert back.records[0].image_id == 42 and back.records[0].difficult.tolist() == [False, True]
    write_dataset(back, tmp_path / "yolo", "yolo")
    via_yolo = read_dataset(tmp_path / "yolo")
    assert via_yolo.category_ids == [90, 7] and via_yolo.class_names == ["person", "zebra"]
    write_dataset(via_yolo, tmp_path / "voc", "voc")
    via_voc = read_dataset(tmp_path / "voc")
    assert via_voc.category_ids == [90, 7] and via_voc.class_names == ["person", "zebra"]
    np.testing.assert_allclose(via_voc.records[0].boxes, [[1, 2, 31, 20], [5, 5, 45, 35]])


def test_voc_integer_boxes_and_difficult_flags_survive_exactly(tmp_path: Path):
    root = tmp_path / "voc"
    write_image(root / "JPEGImages" / "p.jpg", 30, 20)
    (root / "Annotations").mkdir()
    xml = root / "Annotations" / "p.xml"
    xml.write_text(
        "<annotation><filename>p.jpg</filename><size><width>30</width><height>20</height>"
        "<depth>3</depth></size>"
        "<object><name>b</name><difficult>1</difficult><bndbox><xmin>1</xmin><ymin>2</ymin>"
        "<xmax>30</xmax><ymax>20</ymax></bndbox></object>"
        "<object><name>a</name><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>7</xmax>"
        "<ymax>9</ymax></bndbox></object></annotation>"
    )
    data = read_dataset(root)
    assert data.class_names == ["a", "b"]  # no names file: sorted names
    np.testing.assert_allclose(data.records[0].boxes, [[0, 1, 30, 20], [2, 3, 7, 9]])
    assert data.records[0].difficult.tolist() == [True, False]
    write_dataset(data, tmp_path / "coco", "coco")
    write_dataset(read_dataset(tmp_path / "coco"), tmp_path / "voc2", "voc")
    again = (tmp_path / "voc2" / "Annotations" / "p.xml").read_text()
    for tag in ("<xmin>1</xmin>", "<ymin>2</ymin>", "<xmax>30</xmax>", "<xmin>3</xmin>"):
        assert tag in again
    assert "<difficult>1</difficult>" in again
    assert (tmp_path / "voc2" / "labels.txt").read_text() == "a\nb\n"


def test_writing_over_the_source_is_refused(yolo_root: Path):
    with pytest.raises(DatasetError, match="source"):
        write_dataset(read_dataset(yolo_root), yolo_root, "coco")


def test_yolo_splits_must_be_chosen(tmp_path: Path):
    root = tmp_path / "split"
    write_image(root / "images" / "train" / "t.jpg", 8, 8)
    write_image(root / "images" / "val" / "v.jpg", 8, 8)
    (root / "names.txt").write_text("x\n")
    with pytest.raises(DatasetError, match="train, val"):
        read_dataset(root)
    assert [r.path.name for r in read_dataset(root, split="val").records] == ["v.jpg"]
    for image in (root / "images" / "val").iterdir():
        image.unlink()
    (root / "images" / "val").rmdir()
    assert [r.path.name for r in read_dataset(root).records] == ["t.jpg"]  # the only split


def test_cli_convert_writes_the_new_format(yolo_root: Path, tmp_path: Path, capsys):
    assert main(["data", "convert", str(yolo_root), str(tmp_path / "c"), "--to", "coco"]) == 0
    assert "wrote 4 images, 3 boxes, 3 classes" in capsys.readouterr().out
    assert_same(read_dataset(yolo_root), read_dataset(tmp_path / "c"), atol=1e-4)


def test_cli_convert_refuses_to_lose_unreadable_lines(yolo_root: Path, tmp_path: Path, capsys):
    (yolo_root / "labels" / "b.txt").write_text("1 0.35 0.5 0.5 0.5\n1 0.3 oops 0.1 0.1\n")
    assert main(["data", "convert", str(yolo_root), str(tmp_path / "c"), "--to", "voc"]) == 1
    assert "b.txt:2" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
