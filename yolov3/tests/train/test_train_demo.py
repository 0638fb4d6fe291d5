"""``yolov3 demo --quick``: the README's main detector command, in a small form.

It runs as its own process with loader workers, as ``make demo`` does, under a timeout: a
deadlocked worker fails the test instead of hanging the suite.
"""

import subprocess
import sys

import pytest

TIMEOUT_S = 600


def test_quick_demo_writes_report_predictions_and_curves(tmp_path):
    out = tmp_path / "demo"
    command = [sys.executable, "-m", "yolov3", "demo", "--quick", "--out", str(out)]
    try:
        proc = subprocess.run(
            [*command, "--no-progress"], capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"yolov3 demo --quick did not finish in {TIMEOUT_S} s\n{exc.stdout}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "held-out AP50" in proc.stdout
    report = (out / "report.md").read_text()
    assert "Held-out AP50" in report and "circle" in report
    for path in ("train/best.pt", "train/results.png", "train/results.csv", "val/pr_curve.png"):
        assert (out / path).is_file(), path
    assert len(list((out / "predictions").glob("*.jpg"))) == 4
