"""``torchrun --nproc_per_node 2 -m yolov3 train`` on the CPU with the gloo backend."""

import os
import socket
import subprocess
import sys

from yolov3.checkpoint import load_checkpoint
from yolov3.synthetic import ShapesSpec, write_shapes_dataset


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_gloo_training_saves_once_and_reduces_metrics(tmp_path):
    data = write_shapes_dataset(
        tmp_path / "shapes", {"train": 8, "val": 2}, ShapesSpec(64, min_size=12, max_size=30)
    )
    (tmp_path / "runs" / "exp").mkdir(parents=True)
    (tmp_path / "runs" / "exp" / "results.csv").write_text("an earlier run\n")
    out = tmp_path / "runs" / "exp2"  # rank 0 picks the folder; every rank writes there
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_port", str(_free_port()), "-m", "yolov3", "train", "--data", str(data),
        "--arch", "yolov3-tiny", "--img-size", "64", "--epochs", "1", "--batch-size", "2",
        "--workers", "0", "--project", str(tmp_path / "runs"), "--no-progress", "--device", "cpu",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Only rank 0 logs: one header, one epoch line.
    assert proc.stdout.count("2 process(es)") == 1, proc.stdout
    assert proc.stdout.count("epoch 1/1") == 1, proc.stdout
    ck = load_checkpoint(out / "last.pt")
    # 8 images over 2 ranks of batch 2: 2 batches per rank per epoch.
    assert ck["iteration"] == 2
    assert ck["history"][0]["images_per_s"] > 0
    assert sorted(p.name for p in out.glob("*.pt")) == ["best.pt", "last.pt"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["exp", "exp2"]
    assert (tmp_path / "runs" / "exp" / "results.csv").read_text() == "an earlier run\n"
