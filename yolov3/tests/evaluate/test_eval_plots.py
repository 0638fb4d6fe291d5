import numpy as np
from PIL import Image
from test_eval_parity import random_set

from yolov3.evaluate import confusion_matrix, evaluate_detections
from yolov3.evaluate.plots import plot_confusion_matrix, plot_f1_curve, plot_pr_curve


def test_plots_write_png_images(tmp_path):
    rng = np.random.default_rng(0)
    preds, gts = random_set(rng, n_images=20, num_classes=3)
    result = evaluate_detections(preds, gts, 3, class_names=["cat", "dog", "fox"])
    matrix = confusion_matrix(preds, gts, 3)
    paths = [
        plot_pr_curve(result, tmp_path / "pr.png"),
        plot_f1_curve(result, tmp_path / "f1.png"),
        plot_confusion_matrix(matrix, result.class_names, tmp_path / "sub" / "confusion.png"),
    ]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300
