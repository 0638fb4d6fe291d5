"""ONNX export of the fused model, checked with ONNX Runtime.

The graph has one input ``images`` (``float32 [B, 3, H, W]``, RGB in 0..1) and one output per
scale, ``output_s32``, ``output_s16`` (and ``output_s8``), raw logits ``[B, A, H/s, W/s, 5+C]``
exactly as the PyTorch model returns them. The model's :class:`ModelConfig` is stored in the
file's metadata under ``yolov3_config`` (JSON), so a runtime can decode without PyTorch.
"""

from __future__ import annotations

import copy
import inspect
import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.export import Dim

from yolov3.model.yolov3 import DetectorBase

EXPORTERS = ("auto", "dynamo", "torchscript")


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def resolve_exporter(exporter: str = "auto") -> str:
    """``"auto"`` means each torch version's default: ``torch.export`` based from 2.9 on."""
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}, got {exporter!r}")
    if exporter == "auto":
        return "dynamo" if _torch_version() >= (2, 9) else "torchscript"
    if exporter == "dynamo" and "dynamo" not in inspect.signature(torch.onnx.export).parameters:
        raise RuntimeError(f"torch {torch.__version__} has no torch.export-based ONNX exporter")
    return exporter


def export_onnx(
    model: DetectorBase,
    path: str | Path,
    img_size: int | Sequence[int] = 416,
    batch_size: int = 1,
    dynamic: bool = False,
    opset: int | None = None,
    exporter: str = "auto",
) -> Path:
    """Write ``model``'s inference form (fused, eval) as a single-file ONNX model.

    Args:
        model: any YOLOv3 or YOLOv3-tiny; it is copied, not changed.
        path: the ``.onnx`` file to write.
        img_size: example input size, ``S`` or ``(H, W)``, divisible by 32.
        batch_size: example batch size.
        dynamic: make batch, height and width dynamic (height and width stay multiples of 32).
        opset: ONNX opset; default 18 with the dynamo exporter, 17 with TorchScript.
        exporter: ``"dynamo"`` (``torch.export``), ``"torchscript"`` (the legacy tracer,
            deprecated from torch 2.9) or ``"auto"`` (the installed torch's default).

    Returns:
        ``path``, after ``onnx.checker`` accepted the file.
    """
    # lazy: onnx is needed only when exporting, not to build or train models
    import onnx

    height, width = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
    if height % 32 or width % 32:
        raise ValueError(f"img_size must be divisible by 32, got {(height, width)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = copy.deepcopy(model).to("cpu", torch.float32).eval()
    if not net.is_fused:
        net.fuse()
    outputs = [f"output_s{s}" for s in model.config.strides]
    example = torch.rand(batch_size, 3, height, width)
    kind = resolve_exporter(exporter)
    with torch.no_grad():
        if kind == "dynamo":
            _export_dynamo(net, example, path, outputs, dynamic, opset or 18)
        else:
            _export_torchscript(net, example, path, outputs, dynamic, opset or 17)

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "yolov3_config", json.dumps(model.config.to_dict())
    onnx.save(proto, str(path))
    return path


def _export_dynamo(net, example, path, outputs, dynamic, opset) -> None:
    shapes = None
    if dynamic:
        if example.shape[0] == 1:  # torch.export specializes dimensions seen as 1
            example = example.repeat(2, 1, 1, 1)
        h, w = Dim("h", min=1, max=256), Dim("w", min=1, max=256)
        shapes = {"x": {0: Dim("batch", min=1, max=4096), 2: 32 * h, 3: 32 * w}}
    torch.onnx.export(
        net,
        (example,),
        str(path),
        dynamo=True,
        external_data=False,
        verbose=False,
        input_names=["images"],
        output_names=outputs,
        opset_version=opset,
        dynamic_shapes=shapes,
    )


def _export_torchscript(net, example, path, outputs, dynamic, opset) -> None:
    axes = None
    if dynamic:
        axes = {"images": {0: "batch", 2: "height", 3: "width"}}
        axes |= {name: {0: "batch", 2: f"{name}_h", 3: f"{name}_w"} for name in outputs}
    has_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters
    kwargs = {"dynamo": False} if has_dynamo else {}
    with warnings.catch_warnings():
        # torch >= 2.9 deprecates the tracer it still ships; choosing it is the caller's call.
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")
        warnings.filterwarnings("ignore", message="The feature will be removed")
        torch.onnx.export(
            net,
            (example,),
            str(path),
            input_names=["images"],
            output_names=outputs,
            opset_version=opset,
            dynamic_axes=axes,
            do_constant_folding=True,
            **kwargs,
        )


def onnx_session(
    path: str | Path,
    threads: int | None = None,
    providers: Sequence[str] = ("CPUExecutionProvider",),
):
    """An ONNX Runtime session for ``path``.

    With ``threads``, that many intra-op threads, which do not busy-wait between operators
    (on a shared CPU spinning threads steal cores from each other and their neighbours).
    Warnings are not logged: ONNX Runtime warns about inputs that have a default value, as
    the thresholds of an end-to-end export do.
    """
    # lazy: onnxruntime is needed only to check or run an export
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=list(providers))


def compare_onnx(model: DetectorBase, path: str | Path, images: torch.Tensor) -> float:
    """Largest absolute difference between ``model`` and the ONNX file on ``images``."""
    session = onnx_session(path)
    theirs = session.run(None, {"images": images.detach().cpu().numpy().astype(np.float32)})
    was_training = model.training
    with torch.no_grad():
        ours = model.eval()(images)
    model.train(was_training)
    return max(
        float(np.abs(t - o.float().cpu().numpy()).max()) for t, o in zip(theirs, ours, strict=True)
    )
