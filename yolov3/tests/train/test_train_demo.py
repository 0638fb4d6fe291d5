"""``yolov3 demo --quick``: the README's main detector command, in a small form.

It runs as its own process with loader workers, as ``make demo`` does, under a timeout: a
deadlocked worker fails the test instead of hanging the suite.
"""

import sys

import pytest

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


def test_demo_refuses_to_replace_an_earlier_run_before_starting(tmp_path):
    from yolov3.cli import main

    (tmp_path / "demo" / "train").mkdir(parents=True)
    (tmp_path / "demo" / "train" / "last.pt").write_bytes(b"an earlier run")
    with pytest.raises(SystemExit) as info:
        main(["demo", "--quick", "--out", str(tmp_path / "demo"), "--no-progress"])
    assert str(info.value).startswith("yolov3 demo: ") and "--exist-ok" in str(info.value)
    assert not (tmp_path / "demo" / "data").exists()  # nothing generated
