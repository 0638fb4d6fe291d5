"""Every command, every option, given a wrong type, an out-of-range value, a missing file or
a file of the wrong kind: exit 1 or 2 with one ``yolov3 ...:`` line, never a traceback."""

import argparse

import cv2
import numpy as np
import pytest

from yolov3.checkpoint import save_checkpoint
from yolov3.cli import build_parser, main
from yolov3.config import ModelConfig
from yolov3.model import build_model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "empty").mkdir()
    model = build_model(ModelConfig.tiny(num_classes=1, class_names=("thing",)))
    ck = {"model": model.state_dict(), "model_config": model.config.to_dict()}
    save_checkpoint(ck, root / "model.pt")
    (root / "names.txt").write_text("person\ndog\n")
    cv2.imwrite(str(root / "image.jpg"), np.zeros((8, 8, 3), np.uint8))
    return root


def _subcommands(parser: argparse.ArgumentParser, prefix=()):
    """(argv prefix, parser) for every runnable (sub-)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, (*prefix, name))
            return
    yield prefix, parser


# Argument lists that parse but fail fast at run time, so that every option value either
# fails to parse (exit 2) or reaches that failure (exit 1); never a long run.
def _base(command, root):
    empty, model = str(root / "empty"), str(root / "model.pt")
    return {
        ("anchors",): [empty],
        ("data", "check"): [empty],
        ("data", "convert"): [empty, str(root / "out"), "--to", "coco"],
        ("data", "stats"): [empty],
        ("data", "split"): [empty, "--val", "0.2"],
        ("demo",): ["--data", empty, "--no-progress"],
        ("detect",): [empty, "--weights", model, "--quiet"],
        ("export",): [str(root / "names.txt")],
        ("train",): ["--data", empty, "--no-progress"],
        ("val",): ["--data", empty, "--weights", model, "--quiet"],
    }[command]


COMMANDS = [prefix for prefix, _ in _subcommands(build_parser())]


def _options(command):
    parser = dict(_subcommands(build_parser()))[command]
    for action in parser._actions:
        if action.option_strings and action.nargs != 0 and action.dest != "help":
            yield action.option_strings[-1]


def _values(root):
    return ["abc", "-1", "0", "1e9", str(root / "missing.pt"), str(root / "names.txt"),
            str(root / "image.jpg")]  # fmt: skip


def _assert_one_line_error(argv, capsys, may_succeed=False):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out, argv
    if isinstance(code, str):
        assert code.startswith("yolov3 ") and "\n" not in code, (argv, code)
        return
    if may_succeed and code in (0, None):
        return
    assert code in (1, 2), (argv, code, out.err[-500:])
    last = (out.err.strip().splitlines() or [""])[-1]
    if code == 2:
        assert last.startswith("yolov3 ") and "error" in last, (argv, last)
    elif out.err.strip():
        assert last.startswith("yolov3 "), (argv, last)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_option_refuses_bad_values_in_one_line(command, files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    base = _base(command, files)
    _assert_one_line_error([*command, *base], capsys)
    for option in _options(command):
        for value in _values(files):
            _assert_one_line_error([*command, *base, option, value], capsys)


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c not in {("demo",), ("train",), ("val",)}], ids=" ".join
)
def test_the_source_argument_refuses_bad_paths_in_one_line(command, files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    base = _base(command, files)
    for value in _values(files):
        if command == ("detect",) and value.endswith(".jpg"):
            continue  # a real image: a valid source
        _assert_one_line_error([*command, value, *base[1:]], capsys)


@pytest.fixture(scope="module")
def dataset(files):
    root = files / "dataset"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "names.txt").write_text("thing\n")
    cv2.imwrite(str(root / "images" / "a.jpg"), np.zeros((32, 48, 3), np.uint8))
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.25 0.25\n")
    return root


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c[0] in ("data", "anchors")], ids=" ".join
)
def test_data_options_on_a_real_dataset_fail_in_one_line(
    command, files, dataset, capsys, monkeypatch
):
    """The same values past the format detection: a command may succeed with a valid one."""
    monkeypatch.chdir(files)
    base = [str(dataset), *_base(command, files)[1:]]
    for option in _options(command):
        for value in _values(files):
            argv = [*command, *base, option, value]
            _assert_one_line_error(argv, capsys, may_succeed=True)
