"""``yolov3 demo --quick``: the README's main detector command, in a small form.

It runs as its own process with loader workers, as ``make demo`` does, under a timeout: a
deadlocked worker fails the test instead of hanging the suite.
"""

import sys

TIMEOUT_S = 600


def test_quick_demo_writes_report_predictions_and_curves(tmp_path, run_bounded):
    out = tmp_path / "demo"
    command = [
        sys.executable,
        "-m",
        "yolov3",
        "demo",
        "--quick",
        "--out",
        str(out),
        "--no-progress",
    ]
    proc = run_bounded(command, TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "held-out AP50" in proc.stdout
    report = (out / "report.md").read_text()
    assert "Held-out AP50" in report and "circle" in report
    for path in ("train/best.pt", "train/results.png", "train/results.csv", "val/pr_curve.png"):
        assert (out / path).is_file(), path
    assert len(list((out / "predictions").glob("*.jpg"))) == 4
