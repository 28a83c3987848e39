"""Shared pytest fixtures."""

from pathlib import Path

import pytest


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
