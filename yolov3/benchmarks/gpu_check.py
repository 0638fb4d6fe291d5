"""GPU check: everything the CUDA path does, in one command on a bare GPU machine.

    PYTHONPATH=yolov3/src python3 yolov3/benchmarks/gpu_check.py --out runs/gpu-check

Needs only the machine's own Python with torch >= 2.4 (CUDA build) and yolov3's light
dependencies (numpy, opencv, tqdm, matplotlib; onnx and onnxruntime for the export): no set-up
step, no network and no shared data, since every image is generated. Sections:

- ``train_speed``: training-step images/s and peak memory, YOLOv3 and YOLOv3-tiny at 416 and
  608, batch 16/32/64, fp32 vs bf16 vs fp16 (with the GradScaler's skipped steps);
- ``precision``: loss and first-step gradient agreement of bf16 and fp16 with fp32, over 30
  steps from the same start on the same batches;
- ``short_training``: the demo's training (1,200 generated images, YOLOv3-tiny, 128 px) on the
  GPU, with its time and held-out AP50, which must reach ``--min-ap50``;
- ``inference``: latency and images/s at batch 1/8/32, fp32 vs half, fused vs unfused, and the
  largest box and score difference of each variant from unfused fp32;
- ``onnx``: export of the CUDA model, checked with ONNX Runtime;
- ``resume``: a run interrupted after one epoch and resumed on the GPU, against the same run
  uninterrupted.

It prints each section, writes ``gpu_check.json`` and ``gpu_check.png`` to ``--out``, and exits
non-zero when a section fails or is skipped (no CUDA device counts as skipped). ``--allow-cpu
--smoke`` runs every section with tiny sizes on the CPU: a check of this script, not of a GPU.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from yolov3.config import ModelConfig, TrainConfig
from yolov3.model import build_model
from yolov3.predict.decode import decode, postprocess
from yolov3.train import YoloLoss, fit

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Plan:
    """How much each section does (``SMOKE`` for the CPU check of this script)."""

    archs: tuple[str, ...] = ("yolov3", "yolov3-tiny")
    sizes: tuple[int, ...] = (416, 608)
    batches: tuple[int, ...] = (16, 32, 64)
    dtypes: tuple[str, ...] = ("fp32", "bf16", "fp16")
    warmup_steps: int = 3
    timed_steps: int = 6
    precision_steps: int = 30
    precision_batch: int = 16
    precision_size: int = 416
    train_images: int = 1200
    val_images: int = 100
    train_epochs: int = 12
    workers: int = 8
    infer_batches: tuple[int, ...] = (1, 8, 32)
    infer_size: int = 416
    infer_runs: int = 20


SMOKE = Plan(
    archs=("yolov3-tiny",),
    sizes=(64,),
    batches=(2,),
    dtypes=("fp32", "bf16"),
    warmup_steps=1,
    timed_steps=1,
    precision_steps=3,
    precision_batch=2,
    precision_size=64,
    train_images=16,
    val_images=4,
    train_epochs=1,
    workers=2,
    infer_batches=(1, 2),
    infer_size=64,
    infer_runs=1,
)


class Skipped(RuntimeError):
    """A section could not run here; counts as a failure of the check."""


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def model_config(arch: str, num_classes: int = 80) -> ModelConfig:
    if arch == "yolov3-tiny":
        return ModelConfig.tiny(num_classes=num_classes)
    return ModelConfig(num_classes=num_classes)


def random_batch(batch: int, size: int, classes: int, device: torch.device, seed: int = 0):
    """Images in 0..1 and 4 boxes per image ``(b, cls, x1, y1, x2, y2)`` in input pixels."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 3, size, size, generator=g)
    n = batch * 4
    centre = torch.rand(n, 2, generator=g) * size * 0.6 + size * 0.2
    half = (torch.rand(n, 2, generator=g) * 0.2 + 0.05) * size
    boxes = torch.cat([centre - half, centre + half], 1).clamp(0, size)
    index = torch.arange(batch).repeat_interleave(4).float()[:, None]
    cls = torch.randint(0, classes, (n, 1), generator=g).float()
    return images.to(device), torch.cat([index, cls, boxes], 1).to(device)


class Stepper:
    """One training step of ``arch`` under autocast ``dtype`` (with a GradScaler for fp16)."""

    def __init__(self, arch: str, dtype: str, device: torch.device, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.config = model_config(arch)
        self.model = build_model(self.config).to(device).train()
        self.criterion = YoloLoss(self.config, TrainConfig()).to(device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1e-3, momentum=0.9)
        self.dtype, self.device = DTYPES[dtype], device
        self.scaler = torch.amp.GradScaler(device.type) if dtype == "fp16" else None
        self.skipped = 0  # steps the GradScaler skipped (inf/NaN fp16 gradients)

    @property
    def scale(self) -> float:
        return self.scaler.get_scale() if self.scaler is not None else 1.0

    def loss(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        enabled = self.dtype is not None
        with torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=enabled):
            outputs = self.model(images)
        return self.criterion(outputs, targets)["total"] * images.shape[0]

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, images: torch.Tensor, targets: torch.Tensor) -> float:
        loss = self.loss(images, targets)
        self.backward(loss)
        if self.scaler is None:
            self.optimizer.step()
        else:
            scale = self.scale
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.skipped += int(self.scale < scale)
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())


def train_speed(plan: Plan, device: torch.device) -> dict[str, Any]:
    rows = []
    for arch in plan.archs:
        for dtype in plan.dtypes:
            stepper = Stepper(arch, dtype, device)
            for size in plan.sizes:
                for batch in plan.batches:
                    rows.append(
                        time_steps(stepper, plan, size, batch) | {"arch": arch, "dtype": dtype}
                    )
                    print(format_speed(rows[-1]), flush=True)
            del stepper
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return {"rows": rows}


def time_steps(stepper: Stepper, plan: Plan, size: int, batch: int) -> dict[str, Any]:
    device = stepper.device
    images, targets = random_batch(batch, size, stepper.config.num_classes, device)
    row: dict[str, Any] = {"size": size, "batch": batch}
    try:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(plan.warmup_steps):
            stepper.step(images, targets)
        skipped_before = stepper.skipped
        sync(device)
        start = time.perf_counter()
        for _ in range(plan.timed_steps):
            loss = stepper.step(images, targets)
        sync(device)
        seconds = time.perf_counter() - start
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return row | {"oom": True}
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0
    return row | {
        "images_per_s": batch * plan.timed_steps / seconds,
        "peak_gib": peak,
        "loss": loss,
        "scaler_skipped": stepper.skipped - skipped_before,
    }


def format_speed(row: dict[str, Any]) -> str:
    head = f"  {row['arch']:<12} {row['dtype']:<5} {row['size']:>4}px batch {row['batch']:>3}"
    if row.get("oom"):
        return f"{head}  out of memory"
    return (
        f"{head}  {row['images_per_s']:8.1f} img/s  peak {row['peak_gib']:6.2f} GiB"
        f"  scaler skipped {row['scaler_skipped']}"
    )


def precision(plan: Plan, device: torch.device) -> dict[str, Any]:
    """Same start, same batches: the loss curve and first gradient of each dtype vs fp32."""
    batches = [
        random_batch(plan.precision_batch, plan.precision_size, 80, device, seed=k)
        for k in range(plan.precision_steps)
    ]
    curves, grads = {}, {}
    for dtype in plan.dtypes:
        stepper = Stepper("yolov3-tiny", dtype, device, seed=0)
        stepper.backward(stepper.loss(*batches[0]))
        grads[dtype] = torch.cat(
            [p.grad.flatten().float() / stepper.scale for p in stepper.model.parameters()]
        )
        stepper.optimizer.zero_grad(set_to_none=True)
        curves[dtype] = [stepper.step(*b) for b in batches]
    result: dict[str, Any] = {"fp32_loss": curves["fp32"]}
    for dtype in plan.dtypes[1:]:
        rel = [
            abs(a - b) / max(abs(b), 1e-12)
            for a, b in zip(curves[dtype], curves["fp32"], strict=True)
        ]
        cosine = torch.nn.functional.cosine_similarity(grads[dtype], grads["fp32"], dim=0)
        result[dtype] = {
            "max_rel_loss_diff": max(rel),
            "final_rel_loss_diff": rel[-1],
            "grad_cosine_step0": float(cosine),
            "loss": curves[dtype],
        }
        print(
            f"  {dtype} vs fp32: loss within {max(rel):.2%} over {len(rel)} steps, "
            f"first gradient cosine {float(cosine):.5f}"
        )
        # bf16 keeps 8 mantissa bits: its first gradient points the same way as fp32's
        # (cosine well above 0.9 on random data), and the loss curves stay within a few %.
        if not all(math.isfinite(v) for v in curves[dtype]) or cosine < 0.9 or max(rel) > 0.05:
            raise AssertionError(f"{dtype} disagrees with fp32: {result[dtype]}")
    return result


def short_training(plan: Plan, device: torch.device, out: Path, min_ap50: float) -> dict[str, Any]:
    """The demo's training on the GPU, from generated data; returns AP50 and time."""
    from yolov3.demo import DemoPlan, demo_train_config, evaluate_run, fitted_model_config
    from yolov3.synthetic import ShapesSpec, write_shapes_dataset

    demo = DemoPlan(
        train_images=plan.train_images, val_images=plan.val_images, epochs=plan.train_epochs
    )
    spec = ShapesSpec(image_size=demo.image_size, min_size=25, max_size=96)
    splits = {"train": demo.train_images, "val": demo.val_images}
    data = write_shapes_dataset(out / "shapes", splits, spec, seed=demo.seed)
    config = demo_train_config(
        demo, data, out / "demo", progress=False, workers=plan.workers, exist_ok=True
    )  # a rerun of the check replaces its own earlier runs
    start = time.perf_counter()
    result = fit(config, fitted_model_config(config), arch="yolov3-tiny", device=str(device))
    seconds = time.perf_counter() - start
    summary = evaluate_run(result["best"], config, out / "demo", examples=4, progress=False)
    print(f"  {demo.epochs} epochs in {seconds:.0f} s, held-out AP50 {summary['ap50']:.3f}")
    if summary["ap50"] < min_ap50:
        raise AssertionError(f"AP50 {summary['ap50']:.3f} < {min_ap50}")
    return {
        "seconds": seconds,
        "ap50": summary["ap50"],
        "ap": summary["ap"],
        "best": str(result["best"]),
        "data": str(data),
        "config": config,
    }


def inference(plan: Plan, device: torch.device, checkpoint: str | None) -> dict[str, Any]:
    """Latency per variant and batch, and each variant's largest difference from fp32."""
    from yolov3.model.loading import load_model

    base = load_model(checkpoint) if checkpoint else build_model(ModelConfig.tiny())
    variants = {
        "fp32": lambda m: m,
        "fp32 fused": lambda m: m.fuse(),
        "half": lambda m: m.half(),
        "half fused": lambda m: m.fuse().half(),
    }
    if device.type != "cuda":
        variants = {k: v for k, v in variants.items() if "half" not in k}
    rows, reference = [], {}
    for name, make in variants.items():
        model = make(copy.deepcopy(base).to(device).eval())
        dtype = torch.float16 if "half" in name else torch.float32
        for batch in plan.infer_batches:
            images = random_batch(batch, plan.infer_size, 1, device, seed=batch)[0]
            ms, decoded = time_inference(model, images.to(dtype), plan.infer_runs)
            if name == "fp32":
                reference[batch] = decoded
            rows.append(compare_decoded(decoded, reference[batch]) | {
                "variant": name, "batch": batch, "ms": ms, "images_per_s": batch * 1000 / ms,
            })  # fmt: skip
            print(
                f"  {name:<11} batch {batch:>3}: {ms:8.2f} ms  {rows[-1]['images_per_s']:8.1f} "
                f"img/s  max box diff {rows[-1]['box_diff']:.3g} px, "
                f"score diff {rows[-1]['score_diff']:.3g}"
            )
    return {"rows": rows}


@torch.no_grad()
def time_inference(model, images: torch.Tensor, runs: int) -> tuple[float, torch.Tensor]:
    config = model.config
    decoded = decode(model(images), config)  # warm-up (cuDNN picks its kernels)
    postprocess(decoded.float(), conf_thresh=0.25, iou_thresh=0.45)
    sync(images.device)
    start = time.perf_counter()
    for _ in range(runs):
        decoded = decode(model(images), config)
        postprocess(decoded.float(), conf_thresh=0.25, iou_thresh=0.45)
    sync(images.device)
    return (time.perf_counter() - start) * 1000 / runs, decoded.float()


def compare_decoded(ours: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """Largest box (px) and score difference over the predictions fp32 scores above 0.1."""
    score_ref = reference[..., 4:5] * reference[..., 5:]
    score = ours[..., 4:5] * ours[..., 5:]
    keep = score_ref.amax(-1) > 0.1
    if not keep.any():
        keep = torch.ones_like(keep)
    box_diff = (ours[..., :4] - reference[..., :4]).abs()[keep].max()
    score_diff = (score - score_ref).abs()[keep].max()
    return {"box_diff": float(box_diff), "score_diff": float(score_diff)}


def onnx_check(device: torch.device, checkpoint: str | None, size: int) -> dict[str, Any]:
    from yolov3.model.loading import load_model
    from yolov3.model.onnx_export import compare_onnx, export_onnx

    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise Skipped("onnxruntime is not installed") from exc
    model = (load_model(checkpoint) if checkpoint else build_model(ModelConfig.tiny())).to(device)
    path = export_onnx(model, Path(checkpoint or ".").parent / "gpu_check.onnx", img_size=size)
    images = random_batch(1, size, 1, device)[0]
    diff = compare_onnx(model, path, images)
    print(f"  ONNX Runtime vs the model on {device.type}: max |difference| {diff:.3g}")
    if diff > 1e-3:
        raise AssertionError(f"ONNX output differs by {diff}")
    return {"max_abs_diff": diff, "path": str(path)}


def resume(device: torch.device, trained: dict[str, Any] | None, out: Path, plan: Plan):
    """Interrupted after epoch 1 and resumed vs uninterrupted: same steps, close weights."""
    from yolov3.checkpoint import load_checkpoint

    if trained is None:
        raise Skipped("needs the short training's data")
    base = replace(trained["config"], epochs=2, val_interval=2, workers=plan.workers)
    whole = fit(replace(base, out=str(out / "whole")), arch="yolov3-tiny", device=str(device))
    part = replace(base, out=str(out / "part"))
    fit(part, arch="yolov3-tiny", device=str(device), stop_after=1)
    resumed = fit(part, arch="yolov3-tiny", device=str(device), resume=out / "part" / "last.pt")
    a, b = load_checkpoint(whole["last"]), load_checkpoint(resumed["last"])
    diff = max(
        float((a["model"][k].float() - b["model"][k].float()).abs().max()) for k in a["model"]
    )
    print(f"  resumed run: iteration {b['iteration']} (whole run {a['iteration']}), "
          f"largest weight difference {diff:.3g}")  # fmt: skip
    if a["iteration"] != b["iteration"] or b["epoch"] != a["epoch"]:
        raise AssertionError("the resumed run did not continue where it stopped")
    return {"iteration": b["iteration"], "max_weight_diff": diff}


def run_section(name: str, fn: Callable[[], Any], report: dict[str, Any]) -> Any:
    print(f"== {name}", flush=True)
    start = time.perf_counter()
    try:
        value = fn()
        report[name] = {"status": "ok", "result": value}
    except Skipped as exc:
        value = None
        report[name] = {"status": "skipped", "reason": str(exc)}
        print(f"  skipped: {exc}")
    except Exception as exc:  # every failure is reported, then the next section runs
        value = None
        report[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        traceback.print_exc()
    report[name]["seconds"] = time.perf_counter() - start
    return value


def environment(device: torch.device) -> dict[str, Any]:
    env = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": str(device)}
    if device.type == "cuda":
        env |= {
            "name": torch.cuda.get_device_name(device),
            "capability": ".".join(map(str, torch.cuda.get_device_capability(device))),
            "cudnn": torch.backends.cudnn.version(),
            "memory_gib": torch.cuda.get_device_properties(device).total_memory / 2**30,
        }
    print("  " + ", ".join(f"{k} {v}" for k, v in env.items()))
    return env


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        r
        for r in report.get("train_speed", {}).get("result", {}).get("rows", [])
        if "images_per_s" in r
    ]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    labels = [f"{r['arch']}\n{r['size']} b{r['batch']}" for r in rows if r["dtype"] == "fp32"]
    for k, dtype in enumerate(DTYPES):
        values = [r["images_per_s"] for r in rows if r["dtype"] == dtype]
        if values:
            ax.bar([i + 0.27 * (k - 1) for i in range(len(values))], values, 0.27, label=dtype)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("training images/s")
    ax.set_title(f"yolov3 training step, {report['environment']['result'].get('name', 'CPU')}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="runs/gpu-check", help="folder for the JSON, PNG and runs")
    parser.add_argument("--device", default="cuda", help="CUDA device (default: cuda)")
    parser.add_argument("--min-ap50", type=float, default=0.85, help="short training's target")
    parser.add_argument("--allow-cpu", action="store_true", help="run on the CPU without CUDA")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (checks this script)")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else Plan()
    if torch.cuda.is_available():
        device = torch.device(args.device)
    elif args.allow_cpu:
        device = torch.device("cpu")
    else:
        print("gpu-check: no CUDA device on this machine: every section skipped", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    report: dict[str, Any] = {"plan": plan.__dict__}
    run_section("environment", lambda: environment(device), report)
    run_section("train_speed", lambda: train_speed(plan, device), report)
    run_section("precision", lambda: precision(plan, device), report)
    min_ap50 = 0.0 if args.smoke else args.min_ap50
    trained = run_section(
        "short_training", lambda: short_training(plan, device, out, min_ap50), report
    )
    best = trained["best"] if trained else None
    run_section("inference", lambda: inference(plan, device, best), report)
    run_section("onnx", lambda: onnx_check(device, best, plan.infer_size), report)
    run_section("resume", lambda: resume(device, trained, out / "resume", plan), report)
    if trained:
        report["short_training"]["result"].pop("config")
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1, default=str))
    run_section("plot", lambda: plot(report, out / "gpu_check.png"), report)
    bad = {
        k: v["status"]
        for k, v in report.items()
        if isinstance(v, dict) and v.get("status", "ok") != "ok"
    }
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"gpu-check: {'FAILED ' + str(bad) if bad else 'all sections passed'}; see {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
