"""The COCO protocol on real COCO JSON: ``area`` from the annotation, ``iscrowd`` honoured,
pycocotools run on the original file."""

import contextlib
import io
import json

import numpy as np
import pytest

from yolov3.data import read_dataset
from yolov3.evaluate.report import evaluate_predictions

pytest.importorskip("pycocotools")


def _coco_file(tmp_path, seed=0):
    """Images with truths whose ``area`` (a segmentation's) differs from ``w * h`` enough to
    change their size range, crowd regions among them, and jittered detections."""
    rng = np.random.default_rng(seed)
    images, annotations, results = [], [], []
    for image_id in range(1, 31):
        images.append({"id": image_id, "file_name": f"{image_id}.jpg", "width": 640, "height": 480})
        for _ in range(int(rng.integers(1, 7))):
            w, h = np.exp(rng.uniform(np.log(12), np.log(250), 2))
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            area = float(w * h * rng.uniform(0.3, 0.9))  # a polygon inside its box
            crowd = int(rng.random() < 0.15)
            category = int(rng.choice([1, 3, 18]))
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "category_id": category,
                 "bbox": [x, y, w, h], "area": area, "iscrowd": crowd, "segmentation": []}
            )  # fmt: skip
            for _ in range(int(rng.integers(0, 3))):
                jitter = rng.normal(0, 0.12, 4) * [w, h, w, h]
                box = [x + jitter[0], y + jitter[1], abs(w + jitter[2]), abs(h + jitter[3])]
                label = category if rng.random() < 0.85 else int(rng.choice([1, 3, 18]))
                results.append(
                    {"image_id": image_id, "category_id": label, "bbox": box,
                     "score": round(float(rng.random()), 3)}
                )  # fmt: skip
    categories = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(doc))
    (tmp_path / "results.json").write_text(json.dumps(results))
    return path, tmp_path / "results.json"


def _pycocotools_on_file(gt_path, results_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        evaluator = COCOeval(gt, gt.loadRes(str(results_path)), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


@pytest.mark.parametrize("seed", range(3))
def test_sizes_come_from_the_annotation_area_as_in_pycocotools(tmp_path, seed):
    from yolov3.cli import main

    gt_path, results_path = _coco_file(tmp_path, seed)
    reference = _pycocotools_on_file(gt_path, results_path)
    out = tmp_path / "val"
    argv = ["val", "--data", str(gt_path), "--results", str(results_path), "--out", str(out),
            "--pycocotools", "--match", "image_id", "--no-voc"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    ours = np.array(list(metrics["coco"].values()))
    np.testing.assert_allclose(ours, reference, atol=1e-12)
    np.testing.assert_allclose(list(metrics["pycocotools"].values()), reference, atol=1e-12)
    assert "original" in (out / "report.txt").read_text()
    # the box areas would give other small/medium/large numbers: the test can tell
    data = read_dataset(gt_path)
    for record in data.records:
        record.areas[:] = np.nan
    from yolov3.evaluate.report import read_coco_results

    boxes_only = evaluate_predictions(read_coco_results(results_path, data), data, voc=False)
    assert np.abs(boxes_only.result.as_array()[3:6] - reference[3:6]).max() > 1e-3


def test_conversion_keeps_the_annotation_area(tmp_path):
    from yolov3.data.coco import to_coco_dict

    gt_path, _ = _coco_file(tmp_path)
    written = to_coco_dict(read_dataset(gt_path))
    original = json.loads(gt_path.read_text())
    assert [a["area"] for a in written["annotations"]] == pytest.approx(
        [a["area"] for a in original["annotations"]]
    )
