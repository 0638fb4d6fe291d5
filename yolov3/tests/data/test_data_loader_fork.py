"""Loader workers never deadlock on OpenCV state inherited from the parent.

A worker forked while OpenCV's thread pool is running inherits the pool's state without its
threads; an OpenCV call in the worker that reconfigures the pool then waits forever. Each
scenario runs in a fresh interpreter under a timeout, so a regression fails instead of hanging
the suite.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

TIMEOUT_S = 120

# Keeps OpenCV's pool busy the way the demo's generator does, at a size where its
# parallel_for_ really spreads over threads.
BUSY_OPENCV = """
import numpy as np
big = np.random.default_rng(0).integers(0, 255, (1500, 1500, 3), dtype=np.uint8)
for _ in range(8):
    cv2.GaussianBlur(big, (31, 31), 0)
    cv2.resize(big, (1200, 1200))
"""

ITERATE_LOADER = """
from yolov3.data import DetectionDataset, build_loader, read_dataset
dataset = DetectionDataset(read_dataset(DATA, None, "train"), img_size=64, augment=True)
for epoch in range(2):
    batches = sum(1 for _ in build_loader(dataset, 4, shuffle=True, workers=2, **LOADER_ARGS))
    assert batches == 2, batches
print("loaded", flush=True)
"""


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    from yolov3.synthetic import ShapesSpec, write_shapes_dataset

    spec = ShapesSpec(image_size=96, min_size=12, max_size=40)
    return write_shapes_dataset(tmp_path / "shapes", {"train": 8, "val": 4}, spec, seed=0)


def test_opencv_used_before_yolov3_is_imported(shapes, tmp_path, run_bounded):
    """The user's own code ran OpenCV's pool first: the project's workers must not touch it."""
    script = (
        f"import cv2\n{BUSY_OPENCV}\nDATA = {str(shapes)!r}\nLOADER_ARGS = {{}}\n{ITERATE_LOADER}"
    )
    proc = run_bounded([sys.executable, "-c", textwrap.dedent(script)], TIMEOUT_S, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "loaded" in proc.stdout


def test_opencv_pool_is_off_in_any_process_that_imports_yolov3(shapes, tmp_path, run_bounded):
    """The demo's order: yolov3 imported, OpenCV used in the parent, then workers that call
    OpenCV's thread setting themselves (as a user's worker_init_fn may)."""
    script = f"""
        import cv2
        import yolov3
        from yolov3.synthetic import ShapesSpec, write_shapes_dataset
        write_shapes_dataset("more", {{"train": 4}}, ShapesSpec(image_size=256), seed=1)
        {textwrap.indent(BUSY_OPENCV, "        ").strip()}

        import yolov3.data.dataset as ds

        project_init = ds.init_worker

        def reconfiguring_init(worker_id):
            cv2.setNumThreads(1)
            project_init(worker_id)

        ds.init_worker = reconfiguring_init
        DATA = {str(shapes)!r}
        LOADER_ARGS = {{}}
    """
    proc = run_bounded(
        [sys.executable, "-c", textwrap.dedent(script) + ITERATE_LOADER], TIMEOUT_S, tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "loaded" in proc.stdout


def test_train_with_workers_after_deep_check_in_one_process(shapes, tmp_path, run_bounded):
    """``data check --deep`` decodes every image with OpenCV; ``train --workers 2`` follows."""
    out = tmp_path / "run"
    script = f"""
        from yolov3.cli import main
        assert main(["data", "check", {str(shapes)!r}, "--split", "train", "--deep"]) == 0
        assert main([
            "train", "--arch", "yolov3-tiny", "--data", {str(shapes)!r}, "--img-size", "64",
            "--epochs", "1", "--batch-size", "4", "--workers", "2", "--out", {str(out)!r},
            "--no-progress", "--device", "cpu",
        ]) == 0
    """
    proc = run_bounded([sys.executable, "-c", textwrap.dedent(script)], TIMEOUT_S, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "epoch 1/1" in proc.stdout
    assert (out / "last.pt").is_file()
