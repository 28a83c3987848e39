"""Shared pytest fixtures, and one XLA compilation cache for the whole session."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Many tests compile the same small models with XLA, each in a fresh process (training.fit,
# cluster workers, export clients). TensorFlow can keep compiled executables on disk, keyed
# by the computation's fingerprint: set here, before any test imports TensorFlow, so that
# pytest-xdist's workers and every process the tests start inherit it and compile each
# computation once. A user's own TF_XLA_FLAGS are kept (no cache then).
if "TF_XLA_FLAGS" not in os.environ:
    XLA_CACHE = tempfile.mkdtemp(prefix="tf_lvae-tests-xla-")
    os.environ["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={XLA_CACHE}"

# The files that take longest (pytest --durations=0, this project's 2-core machine), longest
# first: they start first, so that the worker processes (pytest.ini: one file each at a
# time) end together on the short files instead of one waiting for the other's long file.
SLOWEST_FILES = (
    "test_training_fit.py",
    "test_runs_cluster.py",
    "test_export_saved_model.py",
    "test_model.py",
    "test_runs_distribute.py",
    "test_model_reference.py",
    "test_training_reproduce.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Runs the SLOWEST_FILES first, in that order, then the rest in the usual order."""
    rank = {name: i for i, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOWEST_FILES)))


@pytest.fixture
def shared_data() -> Path:
    """Returns <repo>/../shared/data (real dataset copies), skipping the test when absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real data copies not found at {path}")
    return path


@pytest.fixture
def user_error(capsys):
    """Returns check(main, argv, message): runs a command's main through `run_command` and
    asserts it exits with status 2 and a one-line stderr message containing `message`."""
    from tf_lvae.cli import run_command

    def check(main, argv, message: str) -> None:
        try:
            status = run_command(main, argv)
        except SystemExit as exit_:  # argparse errors
            status = exit_.code
        err = capsys.readouterr().err
        assert status == 2, err
        assert message in err
        assert len(err.strip().splitlines()) == 1, err

    return check


def pytest_unconfigure(config: pytest.Config) -> None:
    """Removes the session's XLA cache (in the process that made it: pytest-xdist's workers
    inherit TF_XLA_FLAGS, so they do not make one)."""
    if "XLA_CACHE" in globals():
        shutil.rmtree(XLA_CACHE, ignore_errors=True)
