"""GPU check: full YOLOv3 at 416 on coco128 with AMP for a few minutes.

Prints the device, the AMP dtype, training images/s and the loss per epoch, and writes the
run (results.png with the loss curve, last.pt) to ``--out``. Without a CUDA device it says
so and exits with status 0 (``--allow-cpu`` runs the same code on the CPU, for a smoke test).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=3.0, help="training budget (default 3)")
    parser.add_argument("--img-size", type=int, default=416)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--out", default="runs/gpu-check")
    parser.add_argument("--allow-cpu", action="store_true", help="run on the CPU when no CUDA")
    args = parser.parse_args()

    if not torch.cuda.is_available() and not args.allow_cpu:
        print("gpu-check: no CUDA device found; nothing to check on this machine.")
        return 0
    coco = SHARED / "coco128"
    if not coco.is_dir():
        print(f"gpu-check: {coco} not found; nothing to check.")
        return 0
    from yolov3.config import TrainConfig
    from yolov3.train import amp_settings, fit

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    config = TrainConfig(
        data=str(coco),
        train_split="train2017",
        val_split="val2017",
        img_size=args.img_size,
        epochs=1000,  # re-planned after every epoch to fit the time budget
        time_budget_min=args.minutes,
        batch_size=args.batch_size,
        workers=args.workers,
        burn_in_epochs=1.0,
        val_interval=1000,  # validate once, at the end
        out=args.out,
    )
    dtype, scaler = amp_settings(config, device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"gpu-check: {name}, AMP {dtype or 'off'}{' + GradScaler' if scaler else ''}")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = fit(config, arch="yolov3", device=str(device))
    wall = time.perf_counter() - t0
    print(f"{'epoch':>5} {'img/s':>8} {'loss':>8} {'box':>8} {'obj':>8} {'cls':>8}")
    for row in result["history"]:
        print(
            f"{row['epoch']:>5} {row['images_per_s']:>8.1f} {row['total']:>8.4f} "
            f"{row['box']:>8.4f} {row['obj']:>8.4f} {row['cls']:>8.4f}"
        )
    history = result["history"]
    steady = history[1:] or history  # the first epoch includes cuDNN autotuning
    speed = sum(r["images_per_s"] for r in steady) / len(steady)
    losses = [r["total"] for r in history]
    print(f"training images/s {speed:.1f} (mean after the first epoch); {wall / 60:.1f} min")
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; curve: {Path(args.out) / 'results.png'}")
    print(f"val AP50 on coco128 val2017 after this short run: {result['best_ap50']:.4f}")
    if device.type == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    return 0 if all(math.isfinite(v) for v in losses) else 1


if __name__ == "__main__":
    raise SystemExit(main())
