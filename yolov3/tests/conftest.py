"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


def _run_bounded(
    args: Sequence[str], timeout_s: float, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in a process group of its own; past ``timeout_s`` the whole group (its
    loader workers too) is killed and the test fails instead of hanging the suite."""
    with subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail(f"no result after {timeout_s} s (deadlocked?)\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.fixture
def run_bounded() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_bounded(args, timeout_s, cwd=None)``: a subprocess that cannot hang the suite."""
    return _run_bounded
