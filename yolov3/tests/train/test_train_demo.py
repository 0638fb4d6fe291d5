"""A short ``yolov3 demo`` (the full one trains for a few minutes)."""

import pytest

from yolov3.cli import main


@pytest.mark.slow
def test_quick_demo_writes_report_predictions_and_curves(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--no-progress"]) == 0
    assert "held-out AP50" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "Held-out AP50" in report and "circle" in report
    for path in ("train/best.pt", "train/results.png", "train/results.csv", "val/pr_curve.png"):
        assert (out / path).is_file(), path
    assert len(list((out / "predictions").glob("*.jpg"))) == 4
