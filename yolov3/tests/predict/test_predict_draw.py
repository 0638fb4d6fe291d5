import numpy as np
import torch

from yolov3.predict.draw import class_color, draw_detections


def detections(boxes, scores, labels):
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32),
        "scores": torch.tensor(scores),
        "labels": torch.tensor(labels),
    }


def near(pixel: np.ndarray, color: tuple[int, int, int]) -> bool:
    """Antialiased lines blend at their edges: within 40 of the colour on every channel."""
    return bool((np.abs(pixel.astype(int) - color) <= 40).all())


def test_boxes_are_drawn_in_their_class_colour_and_the_input_is_left_alone():
    image = np.zeros((120, 200, 3), np.uint8)
    out = draw_detections(image, detections([[40, 50, 100, 110]], [0.9], [3]), ["a"] * 4)
    assert not image.any()
    assert near(out[80, 40], class_color(3)) and near(out[110, 70], class_color(3))
    assert not out[80, 70].any()  # the inside of the box is untouched


def test_the_most_confident_label_is_on_top_where_labels_overlap():
    image = np.zeros((120, 200, 3), np.uint8)
    boxes = [[20, 40, 150, 110], [20, 40, 140, 100]]
    for scores in ([0.9, 0.3], [0.3, 0.9]):
        out = draw_detections(image, detections(boxes, scores, [0, 1]), ["a", "b"])
        best = int(np.argmax(scores))
        assert tuple(out[38, 21]) == class_color(best)  # label background, above the box


def test_a_label_at_the_right_edge_stays_inside_the_picture():
    image = np.zeros((120, 200, 3), np.uint8)
    out = draw_detections(image, detections([[190, 60, 199, 100]], [0.5], [2]), ["giraffe"] * 3)
    label_row = out[58]
    coloured = np.flatnonzero((label_row == class_color(2)).all(1))
    assert coloured.min() < 150 and coloured.max() <= 199  # moved left, not cut off
