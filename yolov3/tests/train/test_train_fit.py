"""What a run writes, and the time budget."""

import pytest

from yolov3.checkpoint import load_checkpoint
from yolov3.config import TrainConfig
from yolov3.synthetic import ShapesSpec, write_shapes_dataset
from yolov3.train import fit


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    return write_shapes_dataset(out, {"train": 4, "val": 2}, ShapesSpec(64, 1, 2, 12, 30), seed=2)


def _config(data, out, **kw):
    return TrainConfig(
        data=str(data), img_size=64, batch_size=2, workers=0, progress=False, out=str(out), **kw
    )


def test_run_folder_holds_checkpoints_logs_and_plots(shapes, tmp_path, make_mini_detector):
    result = fit(_config(shapes, tmp_path, epochs=2, val_interval=2), model=make_mini_detector(4))
    names = {p.name for p in tmp_path.iterdir()}
    assert {"last.pt", "best.pt", "results.csv", "results.png", "tensorboard"} <= names
    assert next((tmp_path / "tensorboard").iterdir()).name.startswith("events.out")
    rows = (tmp_path / "results.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,lr,box,obj,cls,total,skipped")
    assert rows[1].split(",")[8] == "" and rows[2].split(",")[8] != ""  # AP50 every 2nd epoch
    ck = load_checkpoint(result["last"])
    assert ck["train_config"]["epochs"] == 2 and ck["model_config"]["num_classes"] == 4
    assert ck["ema"] is not None and set(ck["rng"]) >= {"python", "numpy", "torch"}


def test_time_budget_replans_the_epochs(shapes, tmp_path, make_mini_detector):
    config = _config(shapes, tmp_path, epochs=50, time_budget_min=1e-4)
    result = fit(config, model=make_mini_detector(4))
    assert len(result["history"]) == 1  # the budget ran out during the first epoch
    assert load_checkpoint(result["last"])["train_config"]["epochs"] == 1
