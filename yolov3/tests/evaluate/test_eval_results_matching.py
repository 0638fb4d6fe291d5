"""``val --results`` refuses to guess: images by the key the user names, categories by name."""

import json

import cv2
import numpy as np
import pytest
from test_eval_val import OneBox

from yolov3.cli import main
from yolov3.data import read_dataset
from yolov3.evaluate.report import evaluate_predictions, read_coco_results
from yolov3.predict import Detector
from yolov3.predict.pipeline import detect_source

BOX = [125.0, 75.0, 50.0, 25.0]  # where OneBox's detection lands in a 200x100 image


@pytest.fixture
def coco(tmp_path):
    """A COCO dataset with COCO's own sparse ids: cat = 17, dog = 18; image 139 holds a dog."""
    (tmp_path / "images").mkdir()
    images = [(139, "000000000139.jpg"), (285, "000000000285.jpg")]
    for _, name in images:
        cv2.imwrite(str(tmp_path / "images" / name), np.zeros((100, 200, 3), np.uint8))
    doc = {
        "images": [{"id": i, "file_name": n, "width": 200, "height": 100} for i, n in images],
        "annotations": [
            {"id": 1, "image_id": 139, "category_id": 18, "bbox": BOX, "area": 1250, "iscrowd": 0}
        ],
        "categories": [{"id": 17, "name": "cat"}, {"id": 18, "name": "dog"}],
    }
    (tmp_path / "instances.json").write_text(json.dumps(doc))
    return tmp_path


def _results(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_a_file_name_that_is_not_in_the_dataset_is_an_error(coco):
    """dog.jpg's detections were scored as image 0 (000000000139.jpg) without a word."""
    entry = {"image_id": 139, "file_name": "dog.jpg", "category_id": 18, "bbox": BOX, "score": 1}
    path = _results(coco / "r.json", [entry])
    data = read_dataset(coco / "instances.json")
    with pytest.raises(ValueError, match=r"entry 0: file_name 'dog.jpg' is not an image"):
        read_coco_results(path, data)
    with pytest.raises(SystemExit) as info:
        main(["val", "--data", str(coco / "instances.json"), "--results", str(path)])
    assert str(info.value).startswith("yolov3 val: ") and "dog.jpg" in str(info.value)
    preds = read_coco_results(path, data, match="image_id")  # named on purpose: by image id
    assert [len(p["labels"]) for p in preds] == [1, 0]


def test_an_unknown_category_id_is_an_error_not_a_key_error(coco):
    entry = {"image_id": 139, "category_id": 12, "bbox": BOX, "score": 1}
    path = _results(coco / "r.json", [entry])
    with pytest.raises(SystemExit) as info:
        main(["val", "--data", str(coco / "instances.json"), "--results", str(path)])
    message = str(info.value)
    assert message.startswith("yolov3 val: ") and "category_id 12" in message
    assert "\n" not in message


def test_detect_output_scores_right_against_coco_ids(coco, tmp_path):
    """detect numbers classes 1..C (cat=1, dog=2); against ids 17/18 it used to fail, or with
    ids that happen to exist, to score the wrong classes. category_name maps them."""
    detector = Detector(OneBox(), img_size=64, device="cpu")  # classes cat, dog; no ids
    detect_source(detector, coco / "images", tmp_path / "det", save_images=False, progress=False)
    results = json.loads((tmp_path / "det" / "results.json").read_text())
    assert {(r["category_id"], r["category_name"]) for r in results} == {(2, "dog")}
    data = read_dataset(coco / "instances.json")
    preds = read_coco_results(tmp_path / "det" / "results.json", data)
    report = evaluate_predictions(preds, data, voc=False)
    assert report.result.per_class_ap50["dog"] == pytest.approx(
        1.0
    )  # the hit ranks first (image id)


def test_detect_writes_the_datasets_own_ids(coco, tmp_path):
    from yolov3.data.layout import read_categories

    ids = read_categories(coco / "instances.json", ["cat", "dog"])  # as detect --categories
    assert ids == [17, 18]
    detector = Detector(OneBox(), img_size=64, device="cpu", category_ids=ids)
    detect_source(detector, coco / "images", tmp_path / "det", save_images=False, progress=False)
    results = json.loads((tmp_path / "det" / "results.json").read_text())
    assert {r["category_id"] for r in results} == {18}
    for entry in results:
        del entry["category_name"]  # ids alone now map right
    (tmp_path / "ids.json").write_text(json.dumps(results))
    data = read_dataset(coco / "instances.json")
    preds = read_coco_results(tmp_path / "ids.json", data)
    assert [p["labels"].tolist() for p in preds] == [[1], [1]]


def test_training_keeps_the_datasets_category_ids(coco):
    from yolov3.config import TrainConfig
    from yolov3.train import Run

    run = Run.__new__(Run)
    run.model_config, run.arch, run.config = None, "yolov3-tiny", TrainConfig()
    config = run._resolve_model_config(read_dataset(coco / "instances.json"))
    assert config.category_ids == (17, 18)
    from yolov3.config import ModelConfig

    assert ModelConfig.from_dict(config.to_dict()).category_ids == (17, 18)
