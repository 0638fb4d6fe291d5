import numpy as np

from yolov3.data import check_dataset, read_dataset
from yolov3.synthetic import SHAPES, ShapesSpec, render_image, write_shapes_dataset


def test_same_seed_same_dataset_and_the_readers_load_it(tmp_path):
    spec = ShapesSpec(image_size=96, min_size=12, max_size=40)
    a = write_shapes_dataset(tmp_path / "a", {"train": 5, "val": 3}, spec, seed=7)
    b = write_shapes_dataset(tmp_path / "b", {"train": 5, "val": 3}, spec, seed=7)
    for split, count in (("train", 5), ("val", 3)):
        da, db = read_dataset(a, "yolo", split), read_dataset(b, "yolo", split)
        assert len(da.records) == count and da.class_names == list(SHAPES)
        assert not check_dataset(da).errors
        for ra, rb in zip(da.records, db.records, strict=True):
            assert ra.path.read_bytes() == rb.path.read_bytes()
            np.testing.assert_allclose(ra.boxes, rb.boxes)
            assert (ra.width, ra.height) == (96, 96)
            assert ((ra.boxes >= 0) & (ra.boxes <= 96)).all()


def test_shapes_respect_the_spec_and_are_drawn_where_the_boxes_are():
    spec = ShapesSpec(image_size=128, min_objects=2, max_objects=3, min_size=20, max_size=40)
    rng = np.random.default_rng(0)
    for _ in range(10):
        image, boxes, labels = render_image(rng, spec)
        assert image.shape == (128, 128, 3) and image.dtype == np.uint8
        assert 2 <= len(boxes) <= 3 and labels.max() < len(SHAPES)
        sides = boxes[:, 2:] - boxes[:, :2]
        assert (sides >= 20 * 0.75 - 1).all() and (sides <= 40 * 1.33 + 1).all()
        for x1, y1, x2, y2 in boxes.astype(int):
            # The shape's colour differs from the background around the box centre.
            centre = image[(y1 + y2) // 2, (x1 + x2) // 2].astype(int)
            corner_ring = image[max(y1 - 2, 0), max(x1 - 2, 0)].astype(int)
            assert np.abs(centre - corner_ring).sum() > 30
