from pathlib import Path

import numpy as np
import pytest
from data_fixtures import write_image

from yolov3.cli import main
from yolov3.data import read_dataset
from yolov3.data.anchors import anchor_fit, box_shapes, group_by_scale, kmeans_anchors
from yolov3.data.stats import compute_stats


def test_anchor_fit_by_hand():
    # shape IoUs with the one anchor 10x10: 1.0 and 50 / (100 + 100 - 50) = 1/3
    fit = anchor_fit(np.array([[10.0, 10.0], [20.0, 5.0]]), np.array([[10.0, 10.0]]), 0.5)
    assert fit.mean_iou == pytest.approx(2 / 3) and fit.recall == 0.5


def test_kmeans_finds_three_clear_shape_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[200.0, 100.0], [10.0, 20.0], [50.0, 50.0]])
    wh = np.concatenate([c * rng.uniform(0.95, 1.05, (50, 2)) for c in centres])
    anchors = kmeans_anchors(wh, k=3)
    np.testing.assert_allclose(anchors, centres[[1, 2, 0]], rtol=0.03)  # sorted by area
    assert anchor_fit(wh, anchors).mean_iou > 0.9
    assert anchor_fit(wh, anchors).mean_iou > anchor_fit(wh, centres[[0, 0, 0]]).mean_iou
    with pytest.raises(ValueError, match="too few"):
        kmeans_anchors(wh[:2], k=3)


def test_group_by_scale_puts_the_largest_anchors_first():
    anchors = np.array([[w, w] for w in (1, 2, 3, 4, 5, 6)], np.float64)
    assert group_by_scale(anchors, 2) == (((4, 4), (5, 5), (6, 6)), ((1, 1), (2, 2), (3, 3)))


def many_boxes(root: Path) -> Path:
    """One 200x100 image with 12 boxes of three shapes (names: a, b)."""
    write_image(root / "images" / "m.jpg", 200, 100)
    (root / "labels").mkdir()
    shapes = [(0.1, 0.2), (0.3, 0.3), (0.5, 0.9)] * 4
    lines = [f"{i % 2} 0.5 0.5 {w} {h}\n" for i, (w, h) in enumerate(shapes)]
    (root / "labels" / "m.txt").write_text("".join(lines))
    (root / "names.txt").write_text("a\nb\n")
    return root


def test_box_shapes_are_letterboxed(tmp_path: Path):
    wh = box_shapes(read_dataset(many_boxes(tmp_path / "d")), img_size=400)
    # a 200x100 image scales by 2 to 400: 0.1 x 0.2 of it is 20 x 20 px -> 40 x 40
    np.testing.assert_allclose(wh[:3], [[40, 40], [120, 60], [200, 180]])


def test_cli_anchors_prints_fit_and_coco_comparison(tmp_path: Path, capsys):
    root = many_boxes(tmp_path / "d")
    assert main(["anchors", str(root), "--tiny", "--img-size", "416"]) == 0
    out = capsys.readouterr().out
    assert "12 boxes from 1 images" in out and "darknet cfg: anchors = " in out
    fitted = next(line for line in out.splitlines() if line.startswith("fitted"))
    coco = next(line for line in out.splitlines() if line.startswith("default COCO"))
    assert float(fitted.split()[1]) == pytest.approx(1.0, abs=0.01)  # three exact shapes
    assert float(coco.split()[2]) < 1.0
    assert main(["anchors", str(root)]) == 0  # 9 anchors from 12 boxes still works


def test_stats_counts_and_cli_writes_table_and_plot(yolo_root: Path, tmp_path: Path, capsys):
    stats = compute_stats(read_dataset(yolo_root), img_size=128)
    assert (stats.images, stats.empty_images) == (4, 2)
    assert stats.boxes_per_class.tolist() == [1, 1, 1]
    np.testing.assert_allclose(stats.wh, [[32, 24], [32, 24], [20, 20]])
    np.testing.assert_allclose(stats.input_wh[0], [64, 48])  # a.jpg 64x48 scales by 2
    assert main(["data", "stats", str(yolo_root), "--out", str(tmp_path / "s")]) == 0
    table = (tmp_path / "s" / "stats.txt").read_text()
    assert "images            4 (2 without boxes)" in table and "bird" in table
    assert "median w x h @416" in table  # the input size the shapes are measured at
    assert (tmp_path / "s" / "stats.png").read_bytes()[:4] == b"\x89PNG"
