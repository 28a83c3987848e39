"""A finished run made to look stopped in its last epoch, for resume tests."""

import shutil
from pathlib import Path


def stop_in_last_epoch(run: Path, *outputs: str) -> None:
    """Deletes `outputs` (files the run writes once its epochs are done, e.g. model.keras,
    results.json; each must exist) and the run's newest checkpoint, as if the process had
    stopped during its last epoch."""
    for name in outputs:
        (run / name).unlink()
    shutil.rmtree(max((run / "checkpoints").glob("epoch-*")))
