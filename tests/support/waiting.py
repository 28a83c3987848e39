"""Waiting for a training process to reach a point, for tests that interrupt it there."""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def wait_for_checkpoint(
    run: Path, epoch: int, process: subprocess.Popen, why: Callable[[], str], timeout: float = 300
) -> None:
    """Returns once the run directory `run` holds the checkpoint of `epoch`; fails with
    why() if `process` (the one writing it) ends or `timeout` seconds pass first."""
    checkpoint = run / "checkpoints" / f"epoch-{epoch:06d}"
    deadline = time.monotonic() + timeout
    while not checkpoint.is_dir():
        assert process.poll() is None and time.monotonic() < deadline, why()
        time.sleep(0.05)
