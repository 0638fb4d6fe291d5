"""Files of the wrong kind and out-of-range options: what the file is and what was expected."""

import pytest

from yolov3.checkpoint import save_checkpoint
from yolov3.cli import main
from yolov3.config import ModelConfig
from yolov3.filekind import CHECKPOINT, DARKNET_CFG, DARKNET_WEIGHTS, NAMES, file_kind
from yolov3.model import build_model
from yolov3.model.darknet_io import (
    DarknetFormatError,
    load_darknet_weights,
    save_darknet_weights,
    write_cfg,
)
from yolov3.train.transfer import load_pretrained


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds")
    model = build_model(ModelConfig.tiny(num_classes=2))
    save_checkpoint({"model": model.state_dict(), "model_config": model.config.to_dict()},
                    root / "model.pt")  # fmt: skip
    save_darknet_weights(model, root / "tiny.weights")
    write_cfg(model, root / "tiny.cfg", img_size=64)
    (root / "coco.names").write_text("person\nbicycle\n")
    (root / "image.png").write_bytes(b"")
    return root


def test_kinds_are_told_from_the_first_bytes(files):
    assert file_kind(files / "model.pt") == CHECKPOINT
    assert file_kind(files / "tiny.weights") == DARKNET_WEIGHTS
    assert file_kind(files / "tiny.cfg") == DARKNET_CFG
    assert file_kind(files / "coco.names") == NAMES


def test_a_checkpoint_given_as_darknet_weights_says_so(files):
    """It was reported as 'header version 67324752.134742016 marks transposed weights'."""
    with pytest.raises(
        DarknetFormatError, match=r"is a PyTorch checkpoint \(\.pt\); expected Darknet"
    ):
        load_darknet_weights(build_model(ModelConfig.tiny(num_classes=2)), files / "model.pt")


def test_pretrained_weights_of_the_wrong_kind_or_architecture(files):
    model = build_model(ModelConfig(num_classes=2))
    with pytest.raises(ValueError, match=r"coco\.names is a text file"):
        load_pretrained(model, files / "coco.names")
    with pytest.raises(ValueError, match="do not fit a full yolov3"):
        load_pretrained(model, files / "tiny.weights")  # tiny weights, --arch yolov3
    truncated = files / "cut.weights"
    truncated.write_bytes((files / "tiny.weights").read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"cut\.weights"):
        load_pretrained(build_model(ModelConfig.tiny(num_classes=2)), truncated)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--data", "d", "--weights", "{root}/coco.names"], "is a text file"),
        (["train", "--resume", "{root}/tiny.weights"], "is Darknet weights"),
        (["detect", "x", "--weights", "{root}/model.pt", "--batch-size", "0"], "positive"),
        (["detect", "x", "--weights", "{root}/model.pt", "--batch-size", "-1"], "positive"),
        (["detect", "x", "--weights", "{root}/tiny.weights", "--cfg", "{root}/coco.names"],
         "expected a Darknet cfg"),
        (["val", "--data", "{root}", "--weights", "{root}/model.pt", "--names",
          "{root}/tiny.cfg"], "expected a text file"),
    ],
)  # fmt: skip
def test_cli_names_the_file_kind_at_parse_time(argv, expected, files, capsys):
    with pytest.raises(SystemExit) as info:
        main([a.format(root=files) for a in argv])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("yolov3 ") and expected in last


def test_half_on_the_cpu_is_refused_not_ignored(files):
    with pytest.raises(SystemExit) as info:
        main(["detect", str(files), "--weights", str(files / "model.pt"), "--half",
              "--device", "cpu"])  # fmt: skip
    assert str(info.value) == (
        "yolov3 detect: --half runs float16 on CUDA only, and this run is on the CPU"
    )
