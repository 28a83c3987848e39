"""Shared pytest fixtures, and an XLA compilation cache for the tests' processes."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

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


XLA_CACHE: str | None = None  # this process's XLA cache folder, if `pytest_configure` made one


def pytest_configure(config: pytest.Config) -> None:
    """Gives the tests of this process an XLA compilation cache, a temporary folder in
    TF_XLA_FLAGS, so that the many fresh processes they start to compile the same small
    models (training.fit, cluster workers, export clients) inherit it and compile each
    computation once; TensorFlow keys the compiled executables by the computation's
    fingerprint. Each pytest-xdist worker gets its own (TensorFlow writes a cache file in
    place, so a process of another worker could read one half written); the controller,
    which runs no test, none; a user's own TF_XLA_FLAGS are kept (no cache then). Set
    before any test module imports TensorFlow."""
    global XLA_CACHE
    controller = "PYTEST_XDIST_WORKER" not in os.environ and config.getoption("numprocesses")
    if "TF_XLA_FLAGS" in os.environ or controller:
        return
    XLA_CACHE = tempfile.mkdtemp(prefix="tf_lvae-tests-xla-")
    os.environ["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={XLA_CACHE}"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Removes this process's XLA cache (`pytest_configure`), if it made one."""
    if XLA_CACHE:
        shutil.rmtree(XLA_CACHE, ignore_errors=True)
        del os.environ["TF_XLA_FLAGS"]
