"""Class names read from VOC XML files, names that look like typos, and duplicate boxes."""

from pathlib import Path

import pytest
from data_fixtures import write_image

from yolov3.cli import main
from yolov3.data import DatasetError, check_dataset, read_dataset, ready_for_training
from yolov3.data.class_names import one_edit_apart


def voc(root: Path, objects: dict[str, list[tuple[str, tuple[int, int, int, int]]]]) -> Path:
    """Images (40x30) and XML files in VOC layout: image name -> (class, 1-based box)."""
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    for i, (name, boxes) in enumerate(objects.items()):
        write_image(root / "JPEGImages" / f"{name}.jpg", 40, 30, i)
        parts = "".join(
            f"<object><name>{cls}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
            f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
            for cls, b in boxes
        )
        (root / "Annotations" / f"{name}.xml").write_text(
            f"<annotation><filename>{name}.jpg</filename><size><width>40</width>"
            f"<height>30</height></size>{parts}</annotation>"
        )
    return root


BOX, OTHER = (2, 2, 20, 20), (22, 5, 38, 28)


@pytest.mark.parametrize(
    ("a", "b", "how"),
    [
        ("raccoon", "racoon", "by one letter"),
        ("raccoon", "raccoom", "by one letter"),
        ("Dog", "dog", "only by case"),
        ("cat", "cats", "by one letter"),
        ("car", "cat", None),  # real VOC classes: a changed letter in a short name
        ("person", "horse", None),
        ("bus", "bus", None),
    ],
)
def test_one_edit_apart(a, b, how):
    assert one_edit_apart(a, b) == how == one_edit_apart(b, a)


def test_voc_without_names_file_takes_sorted_classes_with_box_counts(tmp_path: Path, capsys):
    root = voc(tmp_path / "v", {"a": [("zebra", BOX), ("ant", OTHER)], "b": [("zebra", BOX)]})
    data = read_dataset(root)
    assert data.class_names == ["ant", "zebra"]
    assert main(["data", "check", str(root)]) == 0
    out = capsys.readouterr().out
    assert (
        "note: " in out and "2 classes from the annotations, sorted: ant (1 boxes), zebra (2" in out
    )


def test_a_typo_in_one_file_warns_naming_both_names(tmp_path: Path, capsys):
    objects = {f"im{i}": [("raccoon", BOX)] for i in range(5)} | {"odd": [("racoon", BOX)]}
    root = voc(tmp_path / "v", objects)
    data = read_dataset(root)
    warnings = [p for p in check_dataset(data).warnings if p.kind == "similar_names"]
    assert len(warnings) == 1
    text = str(warnings[0])
    assert "'raccoon' (5 boxes) and 'racoon' (1 boxes) differ by one letter" in text
    assert "names file" in text and "\n" not in text
    said = []
    ready_for_training(data, said.append)
    assert [s for s in said if s.startswith("warning:")] == [f"warning: {text}"]
    (root / "labels.txt").write_text("raccoon\nracoon\n")  # both on purpose: no warning
    assert not [p for p in check_dataset(read_dataset(root)).problems if p.kind.endswith("names")]


def test_labelimg_layout_with_xml_beside_the_images_reads_as_voc(tmp_path: Path):
    root = voc(tmp_path / "v", {"a": [("dog", BOX)]})
    for xml in (root / "Annotations").glob("*.xml"):
        xml.rename(root / "JPEGImages" / xml.name)
    (root / "Annotations").rmdir()
    (root / "JPEGImages").rename(root / "images")
    data = read_dataset(root)
    assert data.class_names == ["dog"] and data.records[0].path == root / "images" / "a.jpg"


def test_duplicates_are_listed_by_check_and_dropped_for_training_in_one_line(tmp_path, capsys):
    objects = {
        "a": [("dog", BOX), ("dog", BOX), ("cat", BOX)],  # same class twice; cat is no duplicate
        "b": [("dog", OTHER), ("dog", (22, 5, 38, 28)), ("dog", (22, 5, 38, 28))],
        "c": [("cat", OTHER)],
    }
    root = voc(tmp_path / "v", objects)
    (root / "labels.txt").write_text("cat\ndog\n")
    assert main(["data", "check", str(root)]) == 0  # warnings only
    out = capsys.readouterr().out
    assert out.count("warning: ") == 3 and "a.xml object 2: duplicate of object 1" in out
    said = []
    clean = ready_for_training(read_dataset(root), said.append)
    assert said == [
        f"warning: {root}: dropped 3 duplicate boxes (same class, IoU >= 0.98) in 2 images; "
        "`yolov3 data check` lists them"
    ]
    assert [len(r.boxes) for r in clean.records] == [2, 1, 1]
    assert sorted(clean.records[0].labels.tolist()) == [0, 1]
    assert len(read_dataset(root).records[1].boxes) == 3  # the source is not changed


def test_other_errors_still_refuse_training(tmp_path: Path):
    root = voc(tmp_path / "v", {"a": [("dog", BOX), ("dog", BOX)], "b": [("dog", (1, 1, 90, 9))]})
    with pytest.raises(DatasetError, match=r"b\.xml object 1: box .* leaves the 40x30 image"):
        ready_for_training(read_dataset(root), print)
