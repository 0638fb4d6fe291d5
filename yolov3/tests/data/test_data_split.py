"""Splits: stratified, reproducible, written where each reader looks, source left alone."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import write_image

from yolov3.cli import main
from yolov3.data import read_dataset, split_dataset
from yolov3.data.split import stratified_assignment

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
RACCOON = SHARED / "raccoon"


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under ``root`` (links followed) -> its SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def voc_dataset(root: Path, objects: list[list[str]]) -> Path:
    """One tiny image + XML per entry of ``objects`` (the class names of its boxes)."""
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    for i, names in enumerate(objects):
        write_image(root / "JPEGImages" / f"im{i:03d}.png", 16, 16, i)
        boxes = "".join(
            f"<object><name>{n}</name><bndbox><xmin>{1 + k}</xmin><ymin>1</ymin>"
            f"<xmax>{8 + k}</xmax><ymax>8</ymax></bndbox></object>"
            for k, n in enumerate(names)
        )
        (root / "Annotations" / f"im{i:03d}.xml").write_text(
            f"<annotation><filename>im{i:03d}.png</filename><size><width>16</width>"
            f"<height>16</height></size>{boxes}</annotation>"
        )
    return root


def mixed_objects() -> list[list[str]]:
    """100 images: common 'a' everywhere it can be, 'b' in 30 (10 with 'a'), rare 'c' in 10,
    and 10 images without objects."""
    objects = [["a"] for _ in range(50)] + [["b"] for _ in range(20)]
    objects += [["a", "b"] for _ in range(10)] + [["c", "a"] for _ in range(10)]
    return objects + [[] for _ in range(10)]


def class_images(data, indices) -> Counter:
    return Counter(c for i in indices for c in set(data.records[i].labels.tolist()))


def test_single_class_split_has_the_exact_proportions():
    assign = stratified_assignment([[0]] * 200, [0.7, 0.2, 0.1], seed=3)
    assert np.bincount(assign).tolist() == [140, 40, 20]


def test_every_class_keeps_its_share_in_every_split(tmp_path: Path):
    data = read_dataset(voc_dataset(tmp_path / "voc", mixed_objects()))
    parts = split_dataset(data, val=0.2, test=0.1, seed=0)
    assert {k: len(v) for k, v in parts.items()} == {"train": 70, "val": 20, "test": 10}
    assert sorted(i for v in parts.values() for i in v) == list(range(100))  # a partition
    totals = class_images(data, range(100))
    for name, share in (("train", 0.7), ("val", 0.2), ("test", 0.1)):
        found = class_images(data, parts[name])
        for c, total in totals.items():
            assert abs(found[c] - share * total) <= 1, (name, data.class_names[c], found)
        empty = sum(1 for i in parts[name] if len(data.records[i].labels) == 0)
        assert abs(empty - share * 10) <= 1


def test_a_plain_shuffle_would_not_keep_the_rare_class(tmp_path: Path):
    """The test above is not satisfied by chance: seeded random splits miss the 10-image
    class's 1-image test share by more than one image for some seeds, stratification never."""
    data = read_dataset(voc_dataset(tmp_path / "voc", mixed_objects()))
    rare = data.class_names.index("c")
    misses = 0
    for seed in range(20):
        order = np.random.default_rng(seed).permutation(100)
        misses += abs(class_images(data, order[:20])[rare] - 2) > 1
        parts = split_dataset(data, val=0.2, test=0.1, seed=seed)
        assert abs(class_images(data, parts["val"])[rare] - 2) <= 1
    assert misses > 0


def test_the_seed_decides_the_split(tmp_path: Path):
    data = read_dataset(voc_dataset(tmp_path / "voc", mixed_objects()))
    assert split_dataset(data, 0.2, 0.1, seed=5) == split_dataset(data, 0.2, 0.1, seed=5)
    assert split_dataset(data, 0.2, seed=5)["val"] != split_dataset(data, 0.2, seed=6)["val"]


def test_voc_split_in_place_adds_only_the_lists_and_reads_back(tmp_path: Path, capsys):
    root = voc_dataset(tmp_path / "voc", mixed_objects())
    before = tree_hashes(root)
    assert main(["data", "split", str(root), "--val", "0.2", "--test", "0.1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["class", "train", "img", "box"]
    assert "(no objects)" in out and "test.txt" in out
    rows = {line[:12].strip(): line[12:].split() for line in out.splitlines()[1:6]}
    # per split: images, boxes, share of the class's images
    boxes = [str(read_dataset(root, split=n).num_boxes) for n in ("train", "val", "test")]
    assert rows["all images"][0::3] == ["70", "20", "10"] and rows["all images"][1::3] == boxes
    assert rows["all images"][2::3] == ["70.0%", "20.0%", "10.0%"]
    assert rows["c"][0::3] == ["7", "2", "1"] and rows["(no objects)"][0::3] == ["7", "2", "1"]
    after = tree_hashes(root)
    added = sorted(set(after) - set(before))
    assert added == [f"ImageSets/Main/{n}.txt" for n in ("test", "train", "val")]
    assert {k: after[k] for k in before} == before  # nothing else changed
    sizes = {n: len(read_dataset(root, split=n).records) for n in ("train", "val", "test")}
    assert sizes == {"train": 70, "val": 20, "test": 10}
    names = [read_dataset(root, split=n).records for n in ("train", "val", "test")]
    assert len({r.path for records in names for r in records}) == 100


def test_existing_lists_are_kept_unless_forced(tmp_path: Path, capsys):
    root = voc_dataset(tmp_path / "voc", mixed_objects())
    assert main(["data", "split", str(root), "--val", "0.2", "--test", "0.1"]) == 0
    capsys.readouterr()
    lists = root / "ImageSets" / "Main"
    first = (lists / "val.txt").read_text()
    assert main(["data", "split", str(root), "--val", "0.3", "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "split list exists already" in err and "--force" in err and "\n" not in err
    assert (lists / "val.txt").read_text() == first
    assert main(["data", "split", str(root), "--val", "0.3", "--seed", "1", "--force"]) == 0
    assert len((lists / "val.txt").read_text().split()) == 30
    assert not (lists / "test.txt").exists()  # a stale test list would overlap the new train


def yolo_dataset(root: Path, n: int = 20) -> Path:
    (root / "labels").mkdir(parents=True)
    (root / "names.txt").write_text("a\nb\n")
    for i in range(n):
        write_image(root / "images" / f"im{i:02d}.jpg", 20, 20, i)
        (root / "labels" / f"im{i:02d}.txt").write_text(f"{i % 2} 0.5 0.5 0.4 0.4\n")
    return root


@pytest.mark.parametrize("out", [False, True], ids=["in-place", "out"])
def test_yolo_split_lists_read_back_with_their_labels(tmp_path: Path, out: bool):
    root = yolo_dataset(tmp_path / "yolo")
    before = tree_hashes(root)
    target = tmp_path / "split" if out else root
    argv = ["data", "split", str(root), "--val", "0.25", "--seed", "2"]
    assert main(argv + (["--out", str(target)] if out else [])) == 0
    if out:
        assert tree_hashes(root) == before
    whole = read_dataset(root)
    labels = {r.path.name: r.labels.tolist() for r in whole.records}
    train, val = read_dataset(target, split="train"), read_dataset(target, split="val")
    assert (len(train.records), len(val.records)) == (15, 5)
    assert train.class_names == val.class_names == ["a", "b"]
    for record in train.records + val.records:
        assert record.path.is_file() and record.labels.tolist() == labels[record.path.name]
    assert sorted(Counter(int(r.labels[0]) for r in val.records).values()) in ([2, 3],)
    assert len(read_dataset(root).records) == 20  # the whole dataset still reads as before


def coco_dataset(root: Path, n: int = 20) -> Path:
    (root / "annotations").mkdir(parents=True)
    images, anns = [], []
    for i in range(n):
        write_image(root / "images" / f"im{i:02d}.jpg", 20, 20, i)
        images.append({"id": 100 + i, "file_name": f"im{i:02d}.jpg", "width": 20, "height": 20})
        anns.append(
            {"id": i + 1, "image_id": 100 + i, "category_id": 7 + i % 2, "bbox": [2, 2, 8, 8],
             "area": 50.0, "iscrowd": 0, "segmentation": [[2, 2, 10, 2, 10, 10]]}
        )  # fmt: skip
    cats = [{"id": 7, "name": "a"}, {"id": 8, "name": "b"}]
    doc = {"info": {"year": 2024}, "images": images, "annotations": anns, "categories": cats}
    (root / "annotations" / "instances_all.json").write_text(json.dumps(doc))
    return root


@pytest.mark.parametrize("out", [False, True], ids=["in-place", "out"])
def test_coco_split_files_keep_ids_areas_and_extra_keys(tmp_path: Path, out: bool):
    root = coco_dataset(tmp_path / "coco")
    before = tree_hashes(root)
    target = tmp_path / "split" if out else root
    argv = ["data", "split", str(root), "--val", "0.2"]
    assert main(argv + (["--out", str(target)] if out else [])) == 0
    if out:
        assert tree_hashes(root) == before
    val = read_dataset(target, split="val")
    assert len(val.records) == 4 and val.category_ids == [7, 8]
    assert all(r.path.is_file() and r.image_id >= 100 for r in val.records)
    assert all(r.areas.tolist() == [50.0] for r in val.records)
    doc = json.loads((target / "annotations" / "instances_train.json").read_text())
    assert doc["info"] == {"year": 2024} and len(doc["images"]) == len(doc["annotations"]) == 16
    assert doc["annotations"][0]["segmentation"] == [[2, 2, 10, 2, 10, 10]]


def test_raccoon_split_to_out_leaves_the_shared_data_untouched(tmp_path: Path, capsys):
    if not RACCOON.is_dir():
        pytest.skip(f"{RACCOON} not found (shared data is not part of the repository)")
    before = tree_hashes(RACCOON)
    out = tmp_path / "raccoon-split"
    assert main(["data", "split", str(RACCOON), "--val", "0.2", "--out", str(out)]) == 0
    assert "raccoon" in capsys.readouterr().out
    assert tree_hashes(RACCOON) == before
    train, val = read_dataset(out, split="train"), read_dataset(out, split="val")
    assert (len(train.records), len(val.records)) == (160, 40)
    assert train.num_boxes + val.num_boxes == 217
    assert all(r.path.is_file() for r in train.records + val.records)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--val", "0"], "between 0 and 1"),
        (["--val", "1"], "between 0 and 1"),
        (["--val", "-0.2"], "between 0 and 1"),
        (["--val", "abc"], "between 0 and 1"),
        (["--val", "0.2", "--test", "1.5"], "between 0 and 1"),
        (["--val", "0.6", "--test", "0.4"], "leaves no training images"),
        (["--val", "0.2", "--out", "{file}/sub"], "Not a directory"),
    ],
)
def test_bad_split_options_fail_in_one_line_with_status_2(tmp_path, capsys, extra, message):
    root = voc_dataset(tmp_path / "voc", [["a"]] * 10)
    (tmp_path / "file").write_text("")
    extra = [e.replace("{file}", str(tmp_path / "file")) for e in extra]
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(["data", "split", str(root), *extra]))
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and message in err, err
    assert len(err.splitlines()[-1:]) == 1 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("yolov3 data split: error:")
    assert not (root / "ImageSets").exists()


def test_a_missing_folder_and_too_few_images_fail_with_status_2(tmp_path, capsys):
    assert main(["data", "split", str(tmp_path / "nope"), "--val", "0.2"]) == 2
    assert "no such dataset folder" in capsys.readouterr().err
    root = voc_dataset(tmp_path / "voc", [["a"]] * 2)
    assert main(["data", "split", str(root), "--val", "0.2"]) == 2
    assert "the val split would be empty" in capsys.readouterr().err


def test_coco_split_beside_a_split_json_finds_the_nested_images(tmp_path: Path):
    """instances_train2017.json with images/train2017/: the new files point at those images."""
    root = coco_dataset(tmp_path / "coco")
    (root / "images").rename(tmp_path / "flat")
    (root / "images").mkdir()
    (tmp_path / "flat").rename(root / "images" / "train2017")
    (root / "annotations" / "instances_all.json").rename(
        root / "annotations" / "instances_train2017.json"
    )
    assert main(["data", "split", str(root), "--val", "0.25"]) == 0
    for name, count in (("train", 15), ("val", 5)):
        part = read_dataset(root, split=name)
        assert len(part.records) == count
        assert all(r.path.resolve().parent == root / "images" / "train2017" for r in part.records)
        assert all(r.path.is_file() for r in part.records)


def test_a_voc_split_gets_every_class_even_one_missing_from_it(tmp_path: Path):
    root = voc_dataset(tmp_path / "voc", [["a"]] * 9 + [["z"]])
    assert main(["data", "split", str(root), "--val", "0.1"]) == 0
    train, val = read_dataset(root, split="train"), read_dataset(root, split="val")
    assert train.class_names == val.class_names == ["a", "z"]


def test_the_split_that_was_read_is_never_replaced_or_removed(tmp_path: Path, capsys):
    root = voc_dataset(tmp_path / "voc", mixed_objects())
    lists = root / "ImageSets" / "Main"
    lists.mkdir(parents=True)
    (lists / "test.txt").write_text("".join(f"im{i:03d}\n" for i in range(0, 100, 2)))
    argv = ["data", "split", str(root), "--split", "test", "--val", "0.2", "--force"]
    assert main(argv) == 0
    assert len((lists / "test.txt").read_text().split()) == 50  # kept
    assert len((lists / "train.txt").read_text().split()) == 40
    assert main([*argv[:4], "train", *argv[5:]]) == 2
    assert "--split train would be replaced" in capsys.readouterr().err
