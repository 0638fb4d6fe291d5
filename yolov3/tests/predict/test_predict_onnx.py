"""End-to-end ONNX (decoding and NMS in the graph) against the PyTorch pipeline.

Parity rule (``yolov3.predict.parity``): per image, every PyTorch detection is paired with an
ONNX Runtime detection of the same class whose score is within 1e-4 and whose four corners are
within 0.01 px plus 1e-5 of the box's longer side, and no ONNX detection is left over; only a
detection scoring within 1e-4 of the threshold may be found by one side alone.
"""

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import torch
from torch import nn

from yolov3.cli import main
from yolov3.config import ModelConfig
from yolov3.filekind import ONNX, file_kind
from yolov3.model import build_model
from yolov3.model.onnx_export import export_onnx, onnx_session
from yolov3.predict import Detector
from yolov3.predict.onnx_graph import EndToEnd, export_onnx_nms, threshold_tensors
from yolov3.predict.onnx_runtime import OnnxDetector
from yolov3.predict.parity import compare_detections

pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed")

DARKNET = Path(__file__).resolve().parents[4] / "shared" / "data" / "darknet"
needs_darknet = pytest.mark.skipif(
    not (DARKNET / "yolov3-tiny.weights").is_file(),
    reason=f"shared Darknet files not found at {DARKNET}",
)


def random_tiny(seed: int = 0) -> nn.Module:
    """YOLOv3-tiny with random weights, 3 classes, its batch norm calibrated on one batch so
    that its outputs depend on the image; sharper heads give scores spread over 0..1."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig.tiny(num_classes=3, class_names=("cat", "dog", "fox")))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # the calibration batch sets the running statistics
    batch = np.stack(smooth_images(4, 96, 96, seed=100 + seed))
    with torch.no_grad():
        model.train()(torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255)
        for conv in model.head_convs():
            conv.weight.mul_(2.0)
            conv.bias.view(3, 8)[:, 4:] = 0.0
    return model.eval()


def smooth_images(count: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """Seeded colour noise scaled up from a coarse grid: blobs rather than pixel noise."""
    coarse = np.random.default_rng(seed).integers(0, 256, (count, 8, 8, 3), np.uint8)
    return [cv2.resize(c, (width, height), interpolation=cv2.INTER_CUBIC) for c in coarse]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    model = random_tiny()
    path = export_onnx_nms(
        model, tmp_path_factory.mktemp("e2e") / "tiny.onnx", img_size=96, conf_thresh=0.3
    )
    return model, path


def test_graph_layout_inputs_with_defaults_and_metadata(tiny):
    model, path = tiny
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    inputs = {i.name: i.type.tensor_type for i in proto.graph.input}
    assert list(inputs) == ["images", "score_threshold", "iou_threshold", "max_detections"]
    dims = [d.dim_param or d.dim_value for d in inputs["images"].shape.dim]
    assert dims[1] == 3 and all(isinstance(d, str) for d in (dims[0], dims[2], dims[3]))
    assert [o.name for o in proto.graph.output] == ["detections"]
    defaults = {
        t.name: onnx.numpy_helper.to_array(t).item()
        for t in proto.graph.initializer
        if t.name in inputs
    }
    assert defaults == pytest.approx(
        {"score_threshold": 0.3, "iou_threshold": 0.45, "max_detections": 300}
    )
    assert "NonMaxSuppression" in {n.op_type for n in proto.graph.node}
    meta = {p.key: p.value for p in proto.metadata_props}
    assert ModelConfig.from_dict(json.loads(meta["yolov3_config"])) == model.config
    assert meta["yolov3_img_size"] == "96"


@pytest.mark.parametrize("img_size", [96, 128])
def test_end_to_end_onnx_equals_pytorch_pipeline(tiny, img_size):
    model, path = tiny
    images = smooth_images(3, 150, 220) + smooth_images(1, 300, 100, seed=1)
    ours = Detector(model, img_size, conf_thresh=0.3, device="cpu")(images)
    onnx_detector = OnnxDetector(path, img_size=img_size)
    assert onnx_detector.end_to_end and onnx_detector.conf_thresh == 0.3  # the file's default
    theirs = onnx_detector(images, batch_size=3)  # batches of 3, then 1: dynamic batch
    parity = compare_detections(ours, theirs, conf_thresh=0.3)
    assert parity.equal, parity.summary()
    assert parity.matched >= 20 and parity.borderline == 0
    for det in theirs:  # in the image's own pixels, best first
        assert (det["boxes"] >= 0).all() and det["scores"].diff().le(0).all()


@pytest.mark.parametrize(
    ("score", "iou", "max_det"),
    [(0.3, 0.45, 300), (0.5, 0.45, 300), (0.3, 0.1, 300), (0.3, 0.45, 2)],
)
def test_threshold_inputs_act_like_the_pytorch_options(tiny, score, iou, max_det):
    model, path = tiny
    images = smooth_images(2, 96, 96, seed=2)
    options = {"conf_thresh": score, "iou_thresh": iou, "max_det": max_det}
    ours = Detector(model, 96, device="cpu", **options)(images)
    theirs = OnnxDetector(path, **options)(images)
    parity = compare_detections(ours, theirs, conf_thresh=score)
    assert parity.equal and parity.matched > 0, parity.summary()
    if max_det == 2:
        assert all(len(d["scores"]) == 2 for d in theirs)


def test_unfed_thresholds_take_the_stored_defaults(tiny):
    _, path = tiny
    session = onnx_session(path)
    x = np.stack(smooth_images(2, 96, 96, seed=3)).transpose(0, 3, 1, 2).astype(np.float32) / 255
    (plain,) = session.run(None, {"images": x})
    feeds = {
        "score_threshold": np.array(0.3, np.float32),
        "iou_threshold": np.array(0.45, np.float32),
        "max_detections": np.array(300, np.int64),
    }
    (fed,) = session.run(None, {"images": x, **feeds})
    (lower,) = session.run(None, {"images": x, "score_threshold": np.array(0.1, np.float32)})
    assert plain.shape[1] == 7 and len(plain) > 0
    np.testing.assert_array_equal(plain, fed)
    assert len(lower) > len(plain) and plain[:, 5].min() > 0.3
    assert (np.diff(plain[:, 0]) >= 0).all()  # rows by image


def test_eager_graph_module_keeps_max_per_class_and_order():
    model = random_tiny(seed=1).fuse()
    x = torch.from_numpy(np.stack(smooth_images(2, 96, 96, seed=4))).permute(0, 3, 1, 2) / 255
    with torch.no_grad():
        rows = EndToEnd(model)(x.float(), *threshold_tensors(0.3, 0.45, 4))
    ref = Detector(model, 96, conf_thresh=0.3, max_det=4, device="cpu").detect_batch(
        np.stack(smooth_images(2, 96, 96, seed=4))
    )
    for image, det in enumerate(ref):
        mine = rows[rows[:, 0] == image]
        assert len(mine) == len(det["scores"]) == 4
        torch.testing.assert_close(mine[:, 5], det["scores"], atol=1e-5, rtol=0)


@needs_darknet
def test_official_tiny_on_the_sample_images(tmp_path):
    """The official YOLOv3-tiny, exported end to end, finds what PyTorch finds."""
    model = Detector.from_darknet(DARKNET / "yolov3-tiny.cfg", DARKNET / "yolov3-tiny.weights")
    path = export_onnx_nms(model.model, tmp_path / "tiny.onnx", img_size=416)
    images = sorted(str(p) for p in (DARKNET / "images").glob("*.jpg"))
    ours = model(images)
    onnx_detector = OnnxDetector(path)
    assert onnx_detector.class_names[16] == "dog"  # names travel in the file
    theirs = onnx_detector(images)
    parity = compare_detections(ours, theirs, conf_thresh=0.25)
    assert parity.equal and parity.matched >= 10, parity.summary()
    dog = theirs[[Path(p).name for p in images].index("dog.jpg")]
    assert {16, 1, 2} <= set(dog["labels"].tolist())  # dog, bicycle, car


def test_parity_rule_pairs_by_class_score_and_box():
    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 5, 20, 20], [30, 30, 40, 40]])
    a = {
        "boxes": boxes,
        "scores": torch.tensor([0.9, 0.8, 0.2501]),
        "labels": torch.tensor([0, 1, 1]),
    }
    order = torch.tensor([1, 0])  # another order, nudged within the tolerances, one missing
    b = {
        "boxes": boxes[order] + 0.005,
        "scores": a["scores"][order] - 5e-5,
        "labels": a["labels"][order],
    }
    parity = compare_detections([a], [b], conf_thresh=0.25)
    assert parity.equal and parity.matched == 2 and parity.borderline == 1
    assert parity.box_diff == pytest.approx(0.005, abs=1e-6)
    wrong_class = dict(b, labels=torch.tensor([1, 1]))
    assert compare_detections([a], [wrong_class], 0.25).missing == [(0, 0, pytest.approx(0.9))]
    moved = dict(b, boxes=b["boxes"] + torch.tensor([0, 0, 0, 0.02]))
    parity = compare_detections([a], [moved], 0.25)
    assert not parity.equal and len(parity.extra) == 2


def _results_by_image(path: Path) -> list[dict[str, torch.Tensor]]:
    """A ``results.json`` as per-image detections (xyxy), images in file-name order."""
    results = json.loads(path.read_text())
    names = sorted({r["file_name"] for r in results})
    dets = []
    for name in names:
        mine = [r for r in results if r["file_name"] == name]
        xywh = torch.tensor([r["bbox"] for r in mine], dtype=torch.float64)
        dets.append(
            {
                "boxes": torch.cat((xywh[:, :2], xywh[:, :2] + xywh[:, 2:]), 1),
                "scores": torch.tensor([r["score"] for r in mine]),
                "labels": torch.tensor([r["category_id"] for r in mine]),
            }
        )
    return dets


def test_cli_export_nms_then_detect_writes_what_pytorch_writes(tmp_path, capsys):
    model = random_tiny(seed=2)
    checkpoint = tmp_path / "best.pt"
    torch.save({"model_config": model.config.to_dict(), "model": model.state_dict()}, checkpoint)
    source = tmp_path / "images"
    source.mkdir()
    for i, image in enumerate(smooth_images(3, 120, 160, seed=5)):
        cv2.imwrite(str(source / f"{i}.png"), image)
    out = tmp_path / "e2e.onnx"
    args = ["export", str(checkpoint), "--nms", "--img-size", "96", "--conf", "0.3"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ONNX Runtime vs PyTorch on 2 random images" in printed and "missing" not in printed
    runs = {}
    for name, weights in (("pt", checkpoint), ("onnx", out)):
        argv = ["detect", str(source), "--weights", str(weights), "--img-size", "96"]
        assert main([*argv, "--conf", "0.3", "--out", str(tmp_path / name), "--quiet"]) == 0
        runs[name] = _results_by_image(tmp_path / name / "results.json")
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == [
            "0.png", "1.png", "2.png", "labels", "results.json"
        ]  # fmt: skip
    parity = compare_detections(runs["pt"], runs["onnx"], conf_thresh=0.3)
    assert parity.equal and parity.matched >= 10, parity.summary()
    for i in range(3):
        lines = [(tmp_path / n / "labels" / f"{i}.txt").read_text().splitlines() for n in runs]
        assert len(lines[0]) == len(lines[1])


def test_cli_detect_runs_a_raw_onnx_export_too(tmp_path, capsys):
    model = random_tiny(seed=3)
    raw = export_onnx(model, tmp_path / "raw.onnx", img_size=96, exporter="torchscript")
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), smooth_images(1, 100, 140, seed=6)[0])
    argv = ["detect", str(image), "--weights", str(raw), "--conf", "0.3", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "out"), "--no-images"]) == 0
    assert "1 images" in capsys.readouterr().out
    (theirs,) = _results_by_image(tmp_path / "out" / "results.json")
    ours = Detector(model, 96, conf_thresh=0.3, device="cpu")(str(image))
    ours[0]["labels"] = ours[0]["labels"] + 1  # results.json: category id = class + 1
    parity = compare_detections(ours, [theirs], conf_thresh=0.3)
    assert parity.equal and parity.matched > 0, parity.summary()


def test_cli_refuses_bad_onnx_input_in_one_line(tiny, tmp_path, capsys):
    _, path = tiny
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), smooth_images(1, 64, 64)[0])
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(path.read_bytes()[:5000])
    foreign = tmp_path / "foreign.onnx"
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["images"], ["y"])],
        "g",
        [onnx.helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, 64, 64])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3, 64, 64])],
    )
    onnx.save(onnx.helper.make_model(graph), str(foreign))
    cases = [
        ([str(broken)], "broken.onnx: ONNX Runtime cannot load it"),
        ([str(foreign)], "no yolov3_config in its metadata"),
        ([str(path), "--cfg", str(DARKNET / "yolov3-tiny.cfg")], "--cfg is for Darknet weights"),
        ([str(path), "--half"], "--half is for PyTorch models"),
    ]
    if not (DARKNET / "yolov3-tiny.cfg").is_file():
        cases.pop(2)
    for weights, message in cases:
        with pytest.raises(SystemExit) as info:
            main(["detect", str(image), "--weights", *weights, "--out", str(tmp_path / "o")])
        assert message in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SystemExit) as info:  # val evaluates PyTorch models only
        main(["val", "--data", str(tmp_path), "--weights", str(path)])
    assert info.value.code == 2
    assert "is an ONNX model (.onnx); expected" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # an ONNX file is not a source to export
        main(["export", str(path), "--nms"])
    assert info.value.code == 2 and "is an ONNX model" in capsys.readouterr().err


@pytest.mark.slow
@needs_darknet
def test_official_tiny_end_to_end_on_coco128(tmp_path):
    """All 256 coco128 images (val2017 and train2017): ONNX equals PyTorch by the rule."""
    coco = DARKNET.parent / "coco128" / "images"
    images = sorted(str(p) for p in coco.glob("*/*.jpg"))
    if len(images) < 256:
        pytest.skip(f"coco128 not found at {coco}")
    detector = Detector.from_darknet(DARKNET / "yolov3-tiny.cfg", DARKNET / "yolov3-tiny.weights")
    path = export_onnx_nms(detector.model, tmp_path / "tiny.onnx", img_size=416)
    ours = detector(images)
    theirs = OnnxDetector(path)(images)
    parity = compare_detections(ours, theirs, conf_thresh=0.25)
    assert parity.equal and parity.matched > 500, parity.summary()


def test_onnx_files_are_told_from_their_first_bytes(tiny, tmp_path):
    _, path = tiny
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    onnx.save(onnx.helper.make_model(graph), str(tmp_path / "any.onnx"))
    (tmp_path / "names.txt").write_text("onnx\nmodel\n")
    assert file_kind(path) == file_kind(tmp_path / "any.onnx") == ONNX
    assert file_kind(tmp_path / "names.txt") != ONNX


def test_cli_export_nms_refuses_what_the_graph_cannot_hold(tmp_path, capsys):
    model = random_tiny()
    checkpoint = tmp_path / "m.pt"
    torch.save({"model_config": model.config.to_dict(), "model": model.state_dict()}, checkpoint)
    out = str(tmp_path / "m.onnx")
    assert main(["export", str(checkpoint), "--nms", "--opset", "10", "--out", out]) == 1
    assert "needs opset 11 or later" in capsys.readouterr().err
    assert main(["export", str(checkpoint), "--nms", "--exporter", "dynamo", "--out", out]) == 1
    assert "--nms exports through the tracer" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["export", str(checkpoint), "--nms", "--conf", "1.5"])
    assert info.value.code == 2 and "expected a number from 0 to 1" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
