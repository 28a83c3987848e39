"""Waiting for a training process to reach a point, for tests that interrupt it there."""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def wait_for_checkpoint(
    run: Path, epoch: int, process: subprocess.Popen, why: Callable[[], str], timeout: float = 300
) -> None:
    """Returns once the run directory `run` holds the checkpoint of `epoch`. If `process`
    (the one writing it) ends first or `timeout` seconds pass, kills it and fails with why()."""
    checkpoint = run / "checkpoints" / f"epoch-{epoch:06d}"
    deadline = time.monotonic() + timeout
    while not checkpoint.is_dir():
        if process.poll() is not None or time.monotonic() > deadline:
            if checkpoint.is_dir():  # written just before the process ended
                return
            process.kill()
            raise AssertionError(why())
        time.sleep(0.05)
