import hashlib
import json
from pathlib import Path

import pytest
from data_fixtures import write_image

from yolov3.cli import main
from yolov3.data import (
    DatasetError,
    check_dataset,
    ensure_valid,
    fix_dataset,
    read_dataset,
    write_dataset,
)


def problems_of(root: Path, **kwargs) -> list[str]:
    return [f"{p.kind} | {p}" for p in check_dataset(read_dataset(root, **kwargs)).problems]


def only(problems: list[str], kind: str) -> str:
    found = [p for p in problems if p.startswith(kind + " |")]
    assert len(found) == 1, problems
    return found[0]


def write_voc(root: Path, name: str, size: tuple[int, int], objects: str, image: bool = True):
    if image:
        write_image(root / "JPEGImages" / f"{name}.jpg", 40, 30)
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "Annotations" / f"{name}.xml").write_text(
        f"<annotation><filename>{name}.jpg</filename><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height></size>{objects}</annotation>"
    )


def voc_object(name: str, box: tuple[int, int, int, int]) -> str:
    coords = "".join(
        f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True)
    )
    return f"<object><name>{name}</name><bndbox>{coords}</bndbox></object>"


def test_a_clean_dataset_passes_and_counts_empty_label_files(yolo_root: Path):
    report = ensure_valid(read_dataset(yolo_root))
    assert report.ok and report.problems == []
    assert (report.images, report.boxes) == (4, 3)
    assert (report.empty_label_files, report.unlabelled_images) == (1, 1)


def test_out_of_bounds_box_names_file_and_line(yolo_root: Path):
    (yolo_root / "labels" / "b.txt").write_text("1 0.35 0.5 0.5 0.5\n0 0.95 0.5 0.5 0.2\n")
    found = only(problems_of(yolo_root), "out_of_bounds")
    assert "labels/b.txt:2:" in found and "leaves the 40x40 image" in found


def test_degenerate_box(yolo_root: Path):
    (yolo_root / "labels" / "a.txt").write_text("0 0.5 0.5 0.0 0.2\n")
    assert "labels/a.txt:1: degenerate box" in only(problems_of(yolo_root), "degenerate")


def test_duplicate_box_points_at_both_lines(yolo_root: Path):
    (yolo_root / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n" * 2)
    problems = [p for p in problems_of(yolo_root) if p.startswith("duplicate")]
    assert problems == [
        f"duplicate | {yolo_root}/labels/a.txt:3: duplicate of line 1",
        f"duplicate | {yolo_root}/labels/a.txt:4: duplicate of line 2",
    ]


def test_unknown_class_id_in_yolo(yolo_root: Path):
    (yolo_root / "labels" / "b.txt").write_text("7 0.5 0.5 0.2 0.2\n")
    assert "labels/b.txt:1: class 7 is not in 0..2" in only(problems_of(yolo_root), "unknown_class")


def test_malformed_yolo_lines(yolo_root: Path):
    (yolo_root / "labels" / "b.txt").write_text("1 0.5 0.5\n\n1 0.5 x 0.2 0.2\n")
    problems = [p for p in problems_of(yolo_root) if p.startswith("malformed")]
    assert len(problems) == 2
    assert "labels/b.txt:1: expected 5 values" in problems[0]
    assert "labels/b.txt:3: expected an integer class" in problems[1]


def test_unreadable_image(yolo_root: Path):
    (yolo_root / "images" / "c.jpg").write_bytes(b"not a jpeg at all")
    found = only(problems_of(yolo_root), "unreadable_image")
    assert found.endswith("images/c.jpg: image cannot be decoded")


def test_orphan_label_file_is_a_warning(yolo_root: Path):
    (yolo_root / "labels" / "zz.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    report = check_dataset(read_dataset(yolo_root))
    assert report.ok and "zz.txt: label file has no image" in str(report.warnings[0])


def test_several_names_files_are_refused_not_guessed(yolo_root: Path):
    names = (yolo_root / "names.txt").read_text()
    (yolo_root / "names.txt").unlink()
    (yolo_root / "coco.names").write_text(names)
    (yolo_root / "voc.names").write_text(names)
    with pytest.raises(DatasetError, match=r"several class-name files \(coco\.names, voc\.names\)"):
        read_dataset(yolo_root)
    (yolo_root / "voc.names").unlink()
    assert read_dataset(yolo_root).class_names == names.split()  # a single one is used


def test_voc_missing_image_size_mismatch_and_unknown_name(tmp_path: Path):
    root = tmp_path / "voc"
    (root).mkdir()
    (root / "labels.txt").write_text("cat\n")
    write_voc(root, "gone", (40, 30), voc_object("cat", (1, 1, 10, 10)), image=False)
    write_voc(root, "size", (50, 30), voc_object("cat", (1, 1, 10, 10)))
    two = voc_object("cat", (1, 1, 9, 9)) + voc_object("dgo", (2, 2, 8, 8))
    write_voc(root, "name", (40, 30), two)
    problems = problems_of(root)
    assert f"gone.xml: image {root}/JPEGImages/gone.jpg not found" in only(
        problems, "missing_image"
    )
    mismatch = only(problems, "size_mismatch")
    assert "size.xml: annotation says the image is 50x30 but size.jpg is 40x30" in mismatch
    assert "name.xml object 2: class 'dgo' is not one of the 1 declared" in only(
        problems, "unknown_class"
    )


def test_voc_broken_xml_names_file_and_line(tmp_path: Path):
    root = tmp_path / "voc"
    write_voc(root, "ok", (40, 30), voc_object("cat", (1, 1, 10, 10)))
    (root / "Annotations" / "bad.xml").write_text("<annotation>\n<object>\n</annotation>\n")
    write_voc(root, "nobox", (40, 30), "<object><name>cat</name></object>")
    problems = problems_of(root)
    assert any("bad.xml:3: not valid XML" in p for p in problems)
    assert any("nobox.xml object 1: object 'cat' has no <bndbox>" in p for p in problems)


def test_coco_unknown_category_and_bad_annotation(tmp_path: Path):
    root = tmp_path / "coco"
    write_image(root / "images" / "x.jpg", 20, 20)
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": 20, "height": 20}],
        "categories": [{"id": 3, "name": "cat"}],
        "annotations": [
            {"id": 5, "image_id": 1, "category_id": 4, "bbox": [1, 1, 5, 5]},
            {"id": 6, "image_id": 1, "category_id": 3, "bbox": [1, 1]},
            {"id": 7, "image_id": 9, "category_id": 3, "bbox": [1, 1, 5, 5]},
        ],
    }
    (root / "annotations").mkdir()
    (root / "annotations" / "instances.json").write_text(json.dumps(doc))
    problems = problems_of(root)
    unknown = only(problems, "unknown_class")
    assert "instances.json annotation 5 (x.jpg): category_id 4 is not one" in unknown
    malformed = [p for p in problems if p.startswith("malformed")]
    assert "annotation 6: needs image_id, category_id, bbox" in malformed[0]
    assert "annotation 7: image_id 9 is not an image" in malformed[1]


def test_coco_invalid_json_names_file_and_line(tmp_path: Path):
    path = tmp_path / "instances.json"
    path.write_text('{\n "images": [],\n "annotations": [,]\n}')
    with pytest.raises(DatasetError, match=r"instances.json:3: not valid JSON"):
        read_dataset(path)


def test_training_refuses_with_the_same_messages(yolo_root: Path):
    (yolo_root / "labels" / "b.txt").write_text("7 0.5 0.5 0.2 0.2\n")
    data = read_dataset(yolo_root)
    message = str(check_dataset(data).errors[0])
    with pytest.raises(DatasetError) as err:
        ensure_valid(data)
    assert message in str(err.value) and "b.txt:1" in message


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def test_cli_check_exits_1_and_fix_writes_a_clean_copy(yolo_root: Path, tmp_path: Path, capsys):
    (yolo_root / "labels" / "a.txt").write_text(
        "0 0.375 0.5 0.5 0.5\n0 0.375 0.5 0.5 0.5\n0 0.9 0.5 0.4 0.5\n5 0.5 0.5 0.1 0.1\nbad\n"
    )
    before = tree_digest(yolo_root)
    assert main(["data", "check", str(yolo_root)]) == 1
    out = capsys.readouterr().out
    for expected in ("a.txt:2: duplicate", "a.txt:3: box", "a.txt:4: class 5", "a.txt:5:"):
        assert expected in out
    fixed = tmp_path / "fixed"
    assert main(["data", "check", str(yolo_root), "--fix", str(fixed)]) == 1
    assert "wrote a cleaned copy (4 images)" in capsys.readouterr().out
    assert tree_digest(yolo_root) == before  # the source is untouched
    assert main(["data", "check", str(fixed)]) == 0
    boxes = read_dataset(fixed).records[0].boxes  # kept line 1, clipped line 3 to x 44.8..64
    assert boxes.round(3).tolist() == [[8, 12, 40, 36], [44.8, 12, 64, 36]]


def test_fix_onto_the_source_folder_is_refused_and_loses_nothing(
    yolo_root: Path, tmp_path: Path, capsys
):
    (yolo_root / "labels" / "a.txt").write_text("0 0.375 0.5 0.5 0.5\n5 0.5 0.5 0.1 0.1\n")
    before = tree_digest(yolo_root)
    assert main(["data", "check", str(yolo_root), "--fix", str(yolo_root)]) == 1
    assert "refusing to write over the source dataset" in capsys.readouterr().err
    assert tree_digest(yolo_root) == before
    # a dataset that does not know its folder still never replaces an image with itself
    cleaned, _ = fix_dataset(read_dataset(yolo_root))
    cleaned.root = None
    with pytest.raises(DatasetError, match=r"a\.jpg: refusing to replace a source image"):
        write_dataset(cleaned, yolo_root, "yolo")
    assert (yolo_root / "images" / "a.jpg").stat().st_size > 0


def test_fix_takes_the_real_image_size(tmp_path: Path):
    root = tmp_path / "voc"
    write_voc(root, "size", (50, 30), voc_object("cat", (1, 1, 45, 10)))
    data = read_dataset(root)
    cleaned, actions = fix_dataset(data)
    assert data.records[0].width == 50  # the input is not modified
    assert (cleaned.records[0].width, cleaned.records[0].boxes[0, 2]) == (40, 40)
    assert any("size set to the image's 40x30" in a for a in actions)
    assert check_dataset(cleaned).ok
