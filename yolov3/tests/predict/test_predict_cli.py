import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from yolov3.cli import main
from yolov3.config import ModelConfig
from yolov3.model import build_model
from yolov3.model.darknet_io import save_darknet_weights, write_cfg
from yolov3.predict.pipeline import expand_source

DARKNET = Path(__file__).resolve().parents[4] / "shared" / "data" / "darknet"
needs_darknet = pytest.mark.skipif(
    not (DARKNET / "images").is_dir(), reason=f"shared Darknet files not found at {DARKNET}"
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A small random YOLOv3-tiny checkpoint, with biases that make it fire everywhere."""
    torch.manual_seed(0)
    config = ModelConfig.tiny(num_classes=2, class_names=("ball", "cube"))
    model = build_model(config)
    for conv in model.head_convs():
        torch.nn.init.zeros_(conv.weight)
        conv.bias.data.view(3, 7)[:, 4:] = 3.0  # objectness and class probabilities ~0.95
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    torch.save({"model_config": config.to_dict(), "model": model.state_dict(), "ema": None}, path)
    return path


@needs_darknet
def test_detect_sample_images_writes_images_labels_and_json(tmp_path, capsys):
    source = tmp_path / "in"
    shutil.copytree(DARKNET / "images", source)
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    args = [
        "detect", str(source), "--weights", str(DARKNET / "yolov3-tiny.weights"),
        "--cfg", str(DARKNET / "yolov3-tiny.cfg"), "--out", str(out), "--quiet", "--save-conf",
    ]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "broken.jpg: image cannot be decoded" in captured.err
    assert "4 images" in captured.out and "1 files skipped" in captured.out
    assert "found: " in captured.out and " dog" in captured.out
    names = sorted(p.name for p in (DARKNET / "images").glob("*.jpg"))
    for name in names:
        written, original = cv2.imread(str(out / name)), cv2.imread(str(source / name))
        assert written.shape == original.shape and not np.array_equal(written, original)
    results = json.loads((out / "results.json").read_text())
    assert {r["file_name"] for r in results} == set(names)
    dog = [r for r in results if r["file_name"] == "dog.jpg"]
    assert {r["category_id"] for r in dog} >= {17}  # a dog (class 16) in dog.jpg
    for r in results:
        assert len(r["bbox"]) == 4 and 0 < r["score"] <= 1
    lines = (out / "labels" / "dog.txt").read_text().splitlines()
    assert len(lines) == len(dog)
    values = np.array([line.split() for line in lines], float)
    assert values.shape[1] == 6 and ((values[:, 1:5] >= 0) & (values[:, 1:5] <= 1)).all()


@needs_darknet
def test_detect_filters_classes_by_name(tmp_path):
    out = tmp_path / "out"
    args = [
        "detect", str(DARKNET / "images" / "dog.jpg"), "--weights",
        str(DARKNET / "yolov3-tiny.weights"), "--cfg", str(DARKNET / "yolov3-tiny.cfg"),
        "--out", str(out), "--quiet", "--classes", "dog", "--no-images",
    ]  # fmt: skip
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results and {r["category_id"] for r in results} == {17}  # class 16 + 1
    assert not (out / "dog.jpg").exists()


def test_detect_video_writes_annotated_video_and_frame_labels(tmp_path, checkpoint):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 64))
    for i in range(5):
        writer.write(np.full((64, 96, 3), 40 * i, np.uint8))
    writer.release()
    out = tmp_path / "out"
    args = ["detect", str(video), "--weights", str(checkpoint), "--img-size", "64",
            "--out", str(out), "--quiet", "--batch-size", "2", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    capture = cv2.VideoCapture(str(out / "clip.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    capture.release()
    assert sorted(p.name for p in (out / "labels").iterdir()) == [f"clip_{i}.txt" for i in range(5)]
    results = json.loads((out / "results.json").read_text())
    assert {r["file_name"] for r in results} == {f"clip.avi:{i}" for i in range(5)}
    assert {r["image_id"] for r in results} == set(range(5))


def test_unreadable_video_is_reported_and_the_rest_still_runs(tmp_path, checkpoint, capsys):
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    cv2.imwrite(str(tmp_path / "still.png"), np.zeros((40, 60, 3), np.uint8))
    out = tmp_path / "out"
    args = ["detect", str(tmp_path), "--weights", str(checkpoint), "--img-size", "64",
            "--out", str(out), "--quiet", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "broken.mp4" in captured.err and "1 files skipped" in captured.out
    assert (out / "still.png").is_file() and (out / "labels" / "still.txt").is_file()


def test_numbered_images_keep_their_number_as_image_id(tmp_path, checkpoint):
    for stem in ("000000000139", "000000000285"):
        cv2.imwrite(str(tmp_path / f"{stem}.png"), np.zeros((40, 60, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("ignored: not an image")
    out = tmp_path / "out"
    args = ["detect", str(tmp_path / "*.png"), "--weights", str(checkpoint), "--img-size", "64",
            "--out", str(out), "--quiet", "--device", "cpu", "--no-txt"]  # fmt: skip
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert {r["image_id"] for r in results} == {139, 285}
    assert not (out / "labels").exists()


def test_missing_source_and_bad_options_are_reported(tmp_path, checkpoint):
    with pytest.raises(SystemExit, match=r"nothing\.jpg: no such file or folder"):
        main(["detect", str(tmp_path / "nothing.jpg"), "--weights", str(checkpoint)])
    with pytest.raises(SystemExit, match="--classes: 'zebra'"):
        main(["detect", str(tmp_path), "--weights", str(checkpoint), "--classes", "zebra"])
    with pytest.raises(SystemExit, match="no images"):
        main(["detect", str(tmp_path), "--weights", str(checkpoint)])
    (tmp_path / "model.weights").write_bytes(bytes([0, 0, 0, 0, 2]) + bytes(40))  # header 0.2.0
    with pytest.raises(SystemExit, match="give its --cfg"):
        main(["detect", str(tmp_path), "--weights", str(tmp_path / "model.weights")])


def test_detect_refuses_to_write_over_its_source_images(tmp_path, checkpoint, capsys):
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.full((40, 60, 3), 90, np.uint8))
    before = image.read_bytes()
    args = ["detect", str(tmp_path), "--weights", str(checkpoint), "--img-size", "64",
            "--out", str(tmp_path), "--quiet", "--device", "cpu"]  # fmt: skip
    with pytest.raises(SystemExit, match="would overwrite"):
        main(args)
    assert image.read_bytes() == before and not (tmp_path / "results.json").exists()
    assert main([*args, "--no-images"]) == 0  # labels and JSON alone cannot clash
    assert image.read_bytes() == before and (tmp_path / "labels" / "photo.txt").is_file()

    dataset = tmp_path / "dataset"  # YOLO layout: detected labels would replace the truth
    (dataset / "images").mkdir(parents=True)
    (dataset / "labels").mkdir()
    cv2.imwrite(str(dataset / "images" / "a.png"), np.zeros((40, 60, 3), np.uint8))
    (dataset / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    args = ["detect", str(dataset / "images"), "--weights", str(checkpoint), "--img-size", "64",
            "--out", str(dataset), "--quiet", "--device", "cpu"]  # fmt: skip
    with pytest.raises(SystemExit, match="source dataset's labels"):
        main(args)
    assert (dataset / "labels" / "a.txt").read_text() == "0 0.5 0.5 0.2 0.2\n"
    assert main([*args, "--no-txt"]) == 0 and (dataset / "a.png").is_file()


def detect_error(capsys, args: list[str]) -> str:
    """The one-line message a user error ends ``yolov3 detect`` with (no traceback)."""
    with pytest.raises(SystemExit) as exc:
        main(["detect", *args])
    assert exc.value.code not in (0, None)
    message = exc.value.code if isinstance(exc.value.code, str) else capsys.readouterr().err
    assert "Traceback" not in message
    return message.strip().splitlines()[-1]


def test_unusable_model_files_and_options_are_one_line_errors(tmp_path, checkpoint, capsys):
    image = tmp_path / "in.png"
    cv2.imwrite(str(image), np.zeros((40, 60, 3), np.uint8))
    cfg = tmp_path / "m.cfg"
    model = build_model(ModelConfig.tiny(num_classes=2))
    write_cfg(model, cfg, img_size=64)
    short = tmp_path / "short.weights"
    short.write_bytes(b"\0" * 1000)
    garbage = tmp_path / "garbage.pt"
    garbage.write_text("garbage")
    names = tmp_path / "three.names"
    names.write_text("a\nb\nc\n")
    src = [str(image), "--out", str(tmp_path / "out"), "--quiet"]
    line = detect_error(capsys, [*src, "--weights", str(short), "--cfg", str(tmp_path / "no.cfg")])
    assert line == f"yolov3 detect: error: argument --cfg: {tmp_path / 'no.cfg'}: no such file"
    line = detect_error(capsys, [*src, "--weights", str(short), "--cfg", str(cfg)])
    assert str(short) in line and "yolov3-tiny with 2 classes needs" in line
    line = detect_error(capsys, [*src, "--weights", str(garbage)])
    assert line == (
        f"yolov3 detect: error: argument --weights: {garbage} is a text file (such as class "
        "names, one per line); expected a PyTorch checkpoint (.pt) or Darknet weights "
        "(.weights) or an ONNX model (.onnx)"
    )
    line = detect_error(capsys, [*src, "--weights", str(checkpoint), "--names", str(names)])
    assert "3 class names for a model with 2 classes" in line
    full = tmp_path / "full.weights"
    save_darknet_weights(model, full)
    line = detect_error(
        capsys, [*src, "--weights", str(full), "--cfg", str(cfg), "--names", str(names)]
    )
    assert line.endswith(f"{names}: 3 class names, but {cfg} has 2 classes")
    assert "multiple of 32" in detect_error(
        capsys, [*src, "--weights", str(checkpoint), "--img-size", "100"]
    )
    assert "from 0 to 1" in detect_error(
        capsys, [*src, "--weights", str(checkpoint), "--conf", "2"]
    )
    if not torch.cuda.is_available():
        line = detect_error(capsys, [*src, "--weights", str(checkpoint), "--device", "cuda"])
        assert "CUDA is not available" in line


def test_expand_source_orders_folder_and_glob(tmp_path):
    for name in ("b.jpg", "a.PNG", "c.txt", "d.mp4"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.jpg").write_bytes(b"")
    assert [p.name for p in expand_source(tmp_path)] == ["a.PNG", "b.jpg", "d.mp4"]
    assert [p.name for p in expand_source(f"{tmp_path}/**/*.jpg")] == ["b.jpg", "e.jpg"]


@pytest.mark.parametrize(
    "command",
    ["data convert", "data check", "data stats", "anchors", "export", "detect", "val"],
)
def test_help_shows_examples_that_use_the_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*command.split(), "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    examples = text[text.index("example") :].splitlines()[1:]
    assert examples and all(line.startswith(f"  yolov3 {command} ") for line in examples if line)
