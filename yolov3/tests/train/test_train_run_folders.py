"""A run never overwrites another: numbered folders, --out must be new, resume in place."""

import shutil

import pytest

from yolov3.checkpoint import load_checkpoint
from yolov3.cli import main
from yolov3.config import TrainConfig
from yolov3.synthetic import ShapesSpec, write_shapes_dataset
from yolov3.train import RunFolderError, fit, next_run_dir


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    return write_shapes_dataset(out, {"train": 2, "val": 1}, ShapesSpec(64, 1, 2, 12, 30), seed=3)


def _config(data, **kw):
    values = dict(data=str(data), img_size=64, batch_size=2, workers=0, progress=False, epochs=1)
    return TrainConfig(**{**values, **kw})


def test_next_run_dir_numbers_like_other_tools(tmp_path):
    assert next_run_dir(tmp_path, "exp") == tmp_path / "exp"
    (tmp_path / "exp").mkdir()
    assert next_run_dir(tmp_path, "exp") == tmp_path / "exp"  # an empty folder is free
    (tmp_path / "exp" / "last.pt").write_text("x")
    assert next_run_dir(tmp_path, "exp") == tmp_path / "exp2"
    (tmp_path / "exp7").mkdir()
    (tmp_path / "exp7" / "results.csv").write_text("x")
    assert next_run_dir(tmp_path, "exp") == tmp_path / "exp8"


def test_a_second_run_gets_its_own_folder(shapes, tmp_path, make_mini_detector):
    project = tmp_path / "runs"
    first = fit(_config(shapes, project=str(project)), model=make_mini_detector(4))
    csv = (project / "exp" / "results.csv").read_text()
    second = fit(_config(shapes, project=str(project)), model=make_mini_detector(4))
    assert first["out"] == (project / "exp").resolve()
    assert second["out"] == (project / "exp2").resolve()
    assert (project / "exp" / "results.csv").read_text() == csv
    saved = load_checkpoint(second["last"])["train_config"]
    assert saved["out"] == str((project / "exp2").resolve())  # absolute, wherever it started
    assert saved["data"] == str(shapes.resolve())  # so a resume from elsewhere finds it


def test_out_must_be_new_or_empty_unless_exist_ok(shapes, tmp_path, make_mini_detector):
    out = tmp_path / "run"
    fit(_config(shapes, out=str(out)), model=make_mini_detector(4))
    before = (out / "results.csv").read_text()
    with pytest.raises(RunFolderError, match="--exist-ok"):
        fit(_config(shapes, out=str(out)), model=make_mini_detector(4))
    assert (out / "results.csv").read_text() == before
    fit(_config(shapes, out=str(out), exist_ok=True), model=make_mini_detector(4))


def test_resume_continues_in_the_checkpoints_own_folder(shapes, tmp_path, make_mini_detector):
    original = tmp_path / "original"
    fit(_config(shapes, out=str(original), epochs=2), model=make_mini_detector(4), stop_after=1)
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    before = (original / "results.csv").read_text()
    result = fit(TrainConfig(), resume=copy / "last.pt", model=make_mini_detector(4))
    assert result["out"] == copy.resolve()
    assert load_checkpoint(copy / "last.pt")["epoch"] == 2
    assert load_checkpoint(original / "last.pt")["epoch"] == 1
    assert (original / "results.csv").read_text() == before
    with pytest.raises(RunFolderError, match="already finished all 2 epochs"):
        fit(TrainConfig(), resume=copy / "last.pt", model=make_mini_detector(4))
    extended = fit(TrainConfig(), resume=copy / "last.pt", model=make_mini_detector(4), epochs=3)
    assert extended["epochs"] == 3 and load_checkpoint(copy / "last.pt")["epoch"] == 3


def test_cli_resume_refuses_flags_that_change_the_run(tmp_path, capsys):
    import torch

    torch.save({"model": {}, "model_config": {}}, tmp_path / "last.pt")
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(tmp_path / "last.pt"), "--lr0", "0.1", "--mosaic"])
    assert "--lr0, --mosaic would change it" in str(info.value)


def test_cli_resume_of_a_finished_run_says_so(shapes, tmp_path, make_mini_detector):
    fit(_config(shapes, out=str(tmp_path / "r")), model=make_mini_detector(4))
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(tmp_path / "r" / "last.pt"), "--no-progress"])
    assert str(info.value).startswith("yolov3 train: ") and "already finished" in str(info.value)


@pytest.mark.parametrize(
    "argv",
    [["--lr0", "-1"], ["--workers", "-1"], ["--set", "label_smoothing=abc"], ["--epochs", "x"]],
)
def test_cli_checks_train_options_when_parsing(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "d", *argv])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
