"""``--val-fraction``: a dataset without splits is split in memory, by seed, and recorded."""

import hashlib
import json

import pytest

from yolov3.checkpoint import load_checkpoint
from yolov3.cli import main
from yolov3.config import TrainConfig
from yolov3.data import read_dataset, read_holdout
from yolov3.synthetic import ShapesSpec, write_shapes_dataset
from yolov3.train import fit


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    """20 images in images/ + labels/, no splits."""
    out = tmp_path_factory.mktemp("flat")
    return write_shapes_dataset(out, {"": 20}, ShapesSpec(64, 1, 2, 12, 30), seed=4)


def _hashes(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def _config(data, out, seed=0):
    return TrainConfig(
        data=str(data), val_fraction=0.25, seed=seed, img_size=64, epochs=1, batch_size=4,
        workers=0, progress=False, out=str(out),
    )  # fmt: skip


def test_the_run_records_its_split_and_a_rerun_repeats_it(flat, tmp_path, make_mini_detector):
    before = _hashes(flat)
    first = fit(_config(flat, tmp_path / "a"), model=make_mini_detector(4))
    fit(_config(flat, tmp_path / "b"), model=make_mini_detector(4))
    fit(_config(flat, tmp_path / "c", seed=1), model=make_mini_detector(4))
    assert _hashes(flat) == before  # nothing written into the dataset
    a, b, c = (json.loads((tmp_path / n / "split.json").read_text()) for n in "abc")
    assert a["counts"] == {"train": 15, "val": 5} and a["seed"] == 0
    assert "iterative stratification" in a["method"]
    every = {str(r.path) for r in read_dataset(flat).records}
    assert set(a["train"]) | set(a["val"]) == every and not set(a["train"]) & set(a["val"])
    assert a["val"] == b["val"] and a["val"] != c["val"]
    saved = load_checkpoint(first["last"])["train_config"]
    assert saved["val_fraction"] == 0.25 and saved["seed"] == 0
    train, val = read_holdout(flat, None, 0.25, 0, say=lambda _: None)
    assert sorted(str(r.path) for r in val.records) == sorted(a["val"])  # reproducible by seed
    assert len(train.records) == 15


def test_a_resumed_run_keeps_its_split(flat, tmp_path, make_mini_detector):
    config = TrainConfig(**{**_config(flat, tmp_path / "r").to_dict(), "epochs": 2})
    fit(config, model=make_mini_detector(4), stop_after=1)
    first = (tmp_path / "r" / "split.json").read_text()
    fit(TrainConfig(), resume=tmp_path / "r" / "last.pt", model=make_mini_detector(4))
    assert (tmp_path / "r" / "split.json").read_text() == first
    assert load_checkpoint(tmp_path / "r" / "last.pt")["epoch"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--val-fraction", "0"], "val_fraction must be in (0, 1)"),
        (["--val-fraction", "1"], "val_fraction must be in (0, 1)"),
        (["--val-fraction", "half"], "expected float"),
        (["--val-fraction", "0.2", "--val-data", "x"], "excludes val_data"),
    ],
)
def test_bad_val_fractions_fail_in_one_line(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", str(tmp_path), *argv, "--no-progress"])
    text = str(info.value.code) + capsys.readouterr().err
    assert message in text and "Traceback" not in text
    assert info.value.code == 2 or str(info.value.code).startswith("yolov3 train:")
