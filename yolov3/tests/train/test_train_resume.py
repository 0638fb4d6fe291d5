"""Resuming from last.pt continues exactly: 1 epoch + resume + 1 epoch == 2 epochs."""

import pytest
import torch

from yolov3.checkpoint import load_checkpoint
from yolov3.config import TrainConfig
from yolov3.synthetic import ShapesSpec, write_shapes_dataset
from yolov3.train import fit


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    spec = ShapesSpec(image_size=64, min_size=12, max_size=30)
    return write_shapes_dataset(out, {"train": 6, "val": 2}, spec, seed=1)


def _config(data, out):
    return TrainConfig(
        data=str(data),
        img_size=64,
        epochs=2,
        batch_size=2,
        nominal_batch=4,
        multi_scale=True,
        burn_in_epochs=0.5,
        workers=0,
        deterministic=True,
        progress=False,
        out=str(out),
    )


def test_resume_reproduces_an_uninterrupted_run(shapes, tmp_path, make_mini_detector):
    # A few-parameter detector keeps this fast; the real ones train through the same code.
    whole = fit(_config(shapes, tmp_path / "whole"), model=make_mini_detector(4))
    fit(_config(shapes, tmp_path / "split"), model=make_mini_detector(4), stop_after=1)
    assert load_checkpoint(tmp_path / "split" / "last.pt")["epoch"] == 1
    resumed = fit(TrainConfig(), resume=tmp_path / "split" / "last.pt", model=make_mini_detector(4))
    a, b = load_checkpoint(whole["last"]), load_checkpoint(resumed["last"])
    assert a["epoch"] == b["epoch"] == 2 and a["iteration"] == b["iteration"]
    for key in ("model", "ema"):
        for name, tensor in a[key].items():
            torch.testing.assert_close(b[key][name], tensor, rtol=0, atol=0, msg=name)
    states = zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True)
    for sa, sb in states:
        torch.testing.assert_close(sb["momentum_buffer"], sa["momentum_buffer"], rtol=0, atol=0)
    assert [r["total"] for r in a["history"]] == [r["total"] for r in b["history"]]
    assert (tmp_path / "split" / "results.csv").read_text().count("\n") == 3  # header + 2
