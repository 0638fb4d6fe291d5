"""``benchmarks/gpu_check.py``, the one-command GPU check, on the CPU with tiny sizes.

Every section runs (training speed, precision agreement, the demo's training, inference
variants, ONNX, resume), so the script cannot rot between the sessions that have a GPU.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=900, env=env
    )


def test_every_section_passes_in_a_cpu_smoke_run(tmp_path):
    proc = _run("--allow-cpu", "--smoke", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    sections = ("train_speed", "precision", "short_training", "inference", "onnx", "resume")
    assert {name: report[name]["status"] for name in sections} == dict.fromkeys(sections, "ok")
    assert report["resume"]["result"]["max_weight_diff"] == 0.0  # exact on the CPU
    assert (tmp_path / "gpu_check.png").stat().st_size > 0


def test_without_cuda_it_fails_instead_of_passing_quietly(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the case is a machine without a GPU")
    proc = _run("--out", str(tmp_path))
    assert proc.returncode == 2
    assert "no CUDA device" in proc.stderr
