import argparse

import pytest

from yolov3.cli import build_parser, main
from yolov3.cli.train import build_train_config


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", *argv])


def test_train_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--data", "--weights", "--resume", "--freeze-epochs", "--set", "torchrun"):
        assert option in text


def test_flags_and_set_overrides_build_the_train_config():
    config = build_train_config(
        _args(
            "--data", "d", "--epochs", "3", "--lr0", "0.002", "--optimizer", "adamw",
            "--val-split", "none", "--multi-scale", "--no-amp",
            "--set", "label_smoothing=0.1", "--set", "lr_steps=0.5,0.75", "--set", "ema=false",
        )
    )  # fmt: skip
    assert (config.data, config.epochs, config.lr0, config.optimizer) == ("d", 3, 0.002, "adamw")
    assert config.val_split is None and config.multi_scale and not config.amp
    assert config.label_smoothing == 0.1 and config.lr_steps == (0.5, 0.75) and not config.ema


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "nonsense=1"], "KEY one of"),
        (["--set", "epochs=many"], "epochs='many'"),
        (["--optimizer", "rmsprop"], "optimizer"),
    ],
)
def test_bad_options_explain_themselves(argv, message, capsys):
    with pytest.raises((SystemExit, argparse.ArgumentTypeError)) as info:
        build_train_config(_args("--data", "d", *argv))
    assert message in str(info.value) + capsys.readouterr().err


def test_training_refuses_a_dataset_with_errors(tmp_path):
    (tmp_path / "images" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "names.txt").write_text("thing\n")
    import cv2
    import numpy as np

    cv2.imwrite(str(tmp_path / "images" / "train" / "a.png"), np.zeros((32, 32, 3), np.uint8))
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2\n")  # 4 numbers
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--no-progress"])
    assert "a.txt:1" in str(info.value)
    assert not (tmp_path / "run" / "last.pt").exists()
