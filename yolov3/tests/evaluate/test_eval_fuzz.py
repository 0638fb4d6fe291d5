"""Property test: on tiny integer-grid scenes, where equal IoUs, IoUs exactly at a threshold
and tied scores are the rule rather than the exception, we equal pycocotools."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yolov3.evaluate import evaluate_detections, evaluate_with_pycocotools

box = st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 4), st.integers(1, 4)).map(
    lambda b: [b[0] * 4.0, b[1] * 4.0, (b[0] + b[2]) * 4.0, (b[1] + b[3]) * 4.0]
)
truth = st.tuples(box, st.integers(0, 1), st.booleans())
detection = st.tuples(box, st.integers(0, 1), st.sampled_from([0.25, 0.5, 0.75]))
image = st.tuples(st.lists(truth, max_size=4), st.lists(detection, max_size=6))


def to_dicts(scene):
    gts, preds = [], []
    for truths, dets in scene:
        gts.append(
            {
                "boxes": np.array([t[0] for t in truths]).reshape(-1, 4),
                "labels": np.array([t[1] for t in truths], np.int64),
                "difficult": np.array([t[2] and i % 3 == 0 for i, t in enumerate(truths)]),
            }
        )
        preds.append(
            {
                "boxes": np.array([d[0] for d in dets]).reshape(-1, 4),
                "labels": np.array([d[1] for d in dets], np.int64),
                "scores": np.array([d[2] for d in dets]),
            }
        )
    return preds, gts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(image, min_size=1, max_size=4))
def test_equal_to_pycocotools_on_integer_grid_scenes(scene):
    preds, gts = to_dicts(scene)
    ours = evaluate_detections(preds, gts, 2).as_array()
    reference = evaluate_with_pycocotools(preds, gts, 2)
    np.testing.assert_allclose(ours, reference, atol=1e-12, rtol=0)
