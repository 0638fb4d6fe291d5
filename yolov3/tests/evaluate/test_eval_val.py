import json
import math

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from yolov3.cli import main
from yolov3.config import ModelConfig
from yolov3.data import read_dataset
from yolov3.evaluate.report import evaluate_dataset, evaluate_predictions, read_coco_results
from yolov3.model import build_model
from yolov3.predict import Detector
from yolov3.predict.pipeline import detect_source


class OneBox(nn.Module):
    """A stand-in network that always sees one class-1 box of 16x16 input px at (48, 48)."""

    def __init__(self) -> None:
        super().__init__()
        self.config = ModelConfig.tiny(num_classes=2, class_names=("cat", "dog"))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b, _, h, w = x.shape
        outs = [torch.full((b, 3, h // s, w // s, 7), -20.0) for s in self.config.strides]
        aw, ah = self.config.anchors[0][0]
        outs[0][:, 0, 1, 1] = torch.tensor(
            [0, 0, math.log(16 / aw), math.log(16 / ah), 20, -20, 20]
        )
        return outs


def write_yolo_dataset(root, labels_per_image):
    """200x100 images; the stand-in's box is (125, 75, 175, 100) in them (letterbox at 64)."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "names.txt").write_text("cat\ndog\n")
    for i, lines in enumerate(labels_per_image):
        cv2.imwrite(str(root / "images" / f"{i}.png"), np.zeros((100, 200, 3), np.uint8))
        (root / "labels" / f"{i}.txt").write_text("".join(f"{line}\n" for line in lines))


def test_evaluate_dataset_scores_a_perfect_detector_perfectly(tmp_path):
    box = "0.750000 0.875000 0.250000 0.250000"  # (125, 75, 175, 100) as YOLO txt
    write_yolo_dataset(tmp_path / "data", [[f"1 {box}"], [f"1 {box}"], []])
    data = read_dataset(tmp_path / "data", "yolo")
    detector = Detector(OneBox(), img_size=64, device="cpu")
    report = evaluate_dataset(detector, data, tmp_path / "out", pycocotools=True, progress=False)
    # the third image has no truth: its detection is a false positive, but with scores tied
    # it ranks after the true ones (image order), so precision is 1 up to full recall
    stats = report.result.stats
    np.testing.assert_allclose(report.result.as_array(), report.pycocotools, atol=1e-12)
    assert stats["AP"] == pytest.approx(1.0) and stats["AR100"] == pytest.approx(1.0)
    assert report.result.extras["voc"] == pytest.approx(1.0)
    assert report.result.best_f1.precision == pytest.approx(2 / 3)
    assert report.confusion.tolist() == [[0, 0, 0], [0, 2, 0], [0, 1, 0]]
    for name in ("report.txt", "metrics.json", "results.json", "ground_truth.json",
                 "pr_curve.png", "f1_curve.png", "confusion_matrix.png"):  # fmt: skip
        assert (tmp_path / "out" / name).stat().st_size > 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["coco"]["AP50"] == pytest.approx(stats["AP50"])
    assert metrics["pycocotools"]["AP50"] == pytest.approx(stats["AP50"])
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(results) == 3 and results[0]["category_id"] == 2  # category ids default 1..C
    np.testing.assert_allclose(results[0]["bbox"], [125, 75, 50, 25])


def test_evaluate_dataset_refuses_a_model_for_other_classes(tmp_path):
    write_yolo_dataset(tmp_path / "data", [[]])
    (tmp_path / "data" / "names.txt").write_text("a\nb\nc\n")
    data = read_dataset(tmp_path / "data", "yolo")
    with pytest.raises(ValueError, match="the dataset has 3 classes and the model 2"):
        evaluate_dataset(Detector(OneBox(), img_size=64, device="cpu"), data, progress=False)


def test_val_command_writes_report_and_runs_pycocotools(tmp_path, capsys):
    box = "0.750000 0.875000 0.250000 0.250000"
    write_yolo_dataset(tmp_path / "data", [[f"1 {box}", f"0 {box}"], [f"1 {box}"]])
    torch.manual_seed(0)
    config = ModelConfig.tiny(num_classes=2, class_names=("cat", "dog"))
    model = build_model(config)
    ckpt = tmp_path / "model.pt"
    torch.save({"model_config": config.to_dict(), "model": model.state_dict(), "ema": None}, ckpt)
    out = tmp_path / "out"
    args = ["val", "--data", str(tmp_path / "data"), "--weights", str(ckpt), "--img-size", "64",
            "--pycocotools", "--out", str(out), "--quiet", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in text
    assert "pycocotools on the same detections" in text and "VOC07 11-point" in text
    report = (out / "report.txt").read_text()
    assert "best F1" in report and "dog" in report
    metrics = json.loads((out / "metrics.json").read_text())
    for key, value in metrics["coco"].items():
        assert metrics["pycocotools"][key] == pytest.approx(value, abs=1e-4)


def test_val_command_reports_a_missing_dataset(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["val", "--data", str(tmp_path / "nope"), "--weights", str(tmp_path / "w.pt")])
    assert info.value.code == 2 and "no such dataset folder" in capsys.readouterr().err


def test_coco_dataset_keeps_its_image_and_category_ids(tmp_path):
    """Unsorted image ids and sparse category ids survive into the exports, and the
    evaluation still agrees with pycocotools (which orders images by id)."""
    (tmp_path / "images").mkdir()
    ids = [42, 7, 1000]
    for i in ids:
        cv2.imwrite(str(tmp_path / "images" / f"{i}.png"), np.zeros((100, 200, 3), np.uint8))
    box = [125.0, 75.0, 50.0, 25.0]
    doc = {
        "images": [{"id": i, "file_name": f"{i}.png", "width": 200, "height": 100} for i in ids],
        "annotations": [
            {"id": 1, "image_id": 42, "category_id": 9, "bbox": box, "area": 1250, "iscrowd": 0},
            {"id": 2, "image_id": 1000, "category_id": 3, "bbox": box, "area": 1250, "iscrowd": 0},
        ],
        "categories": [{"id": 3, "name": "cat"}, {"id": 9, "name": "dog"}],
    }
    (tmp_path / "instances.json").write_text(json.dumps(doc))
    data = read_dataset(tmp_path / "instances.json")
    detector = Detector(OneBox(), img_size=64, device="cpu")
    report = evaluate_dataset(detector, data, tmp_path / "out", pycocotools=True, progress=False)
    np.testing.assert_allclose(report.result.as_array(), report.pycocotools, atol=1e-12)
    # three tied "dog" detections ranked by image id: 7 (false), 42 (true), 1000 (false)
    assert report.result.per_class_ap50 == {"cat": 0.0, "dog": pytest.approx(0.5)}
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["image_id"] for r in results] == [7, 42, 1000]
    assert {r["category_id"] for r in results} == {9}
    truth = json.loads((tmp_path / "out" / "ground_truth.json").read_text())
    assert [c["id"] for c in truth["categories"]] == [3, 9]


def test_val_evaluates_a_results_file_like_the_model_run_that_wrote_it(tmp_path, capsys):
    box = "0.750000 0.875000 0.250000 0.250000"
    write_yolo_dataset(tmp_path / "data", [[f"1 {box}"], [f"0 {box}"], []])
    data = read_dataset(tmp_path / "data", "yolo")
    detector = Detector(OneBox(), img_size=64, device="cpu")
    direct = evaluate_dataset(detector, data, tmp_path / "run", progress=False)
    out = tmp_path / "again"
    args = ["val", "--data", str(tmp_path / "data"), "--results",
            str(tmp_path / "run" / "results.json"), "--out", str(out), "--pycocotools"]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["coco"] == pytest.approx(direct.result.stats)
    assert metrics["pycocotools"] == pytest.approx(direct.result.stats)
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])
    )
    with pytest.raises(SystemExit, match=r"bad\.json: entry 0: image_id 99 is not an image"):
        main(["val", "--data", str(tmp_path / "data"), "--results", str(bad)])
    with pytest.raises(SystemExit, match="either --weights"):
        main(["val", "--data", str(tmp_path / "data")])


def test_val_reads_back_the_results_that_detect_writes(tmp_path):
    """``yolov3 detect`` numbers images by run position and categories 1..C; ``val --results``
    finds each image by file name, so a detect run over part of a dataset scores right."""
    box = "0.750000 0.875000 0.250000 0.250000"
    write_yolo_dataset(tmp_path / "data", [[], [f"1 {box}"], [f"0 {box}"]])
    for i, name in enumerate("abc"):
        (tmp_path / "data" / "images" / f"{i}.png").rename(
            tmp_path / "data" / "images" / f"{name}.png"
        )
        (tmp_path / "data" / "labels" / f"{i}.txt").rename(
            tmp_path / "data" / "labels" / f"{name}.txt"
        )
    data = read_dataset(tmp_path / "data", "yolo")
    detector = Detector(OneBox(), img_size=64, device="cpu")
    source = str(tmp_path / "data" / "images" / "[bc].png")
    detect_source(detector, source, tmp_path / "det", save_images=False, progress=False)
    results = json.loads((tmp_path / "det" / "results.json").read_text())
    assert [(r["image_id"], r["file_name"], r["category_id"]) for r in results] == [
        (0, "b.png", 2),
        (1, "c.png", 2),
    ]
    preds = read_coco_results(tmp_path / "det" / "results.json", data)
    assert [p["labels"].tolist() for p in preds] == [[], [1], [1]]  # a, b, c
    expected = detector([r.path for r in data.records[1:]])
    for got, want in zip(preds[1:], expected, strict=True):
        np.testing.assert_allclose(got["boxes"], want["boxes"].double(), atol=1e-4)
        np.testing.assert_allclose(got["scores"], want["scores"].double(), atol=1e-6)
    report = evaluate_predictions(preds, data, pycocotools=True)
    np.testing.assert_allclose(report.result.as_array(), report.pycocotools, atol=1e-12)
    assert report.result.per_class_ap50 == {"cat": 0.0, "dog": pytest.approx(1.0)}
