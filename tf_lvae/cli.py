"""What every command line of the project shares: errors as one line and exit status 2,
argument types, and the start of TensorFlow after the options are read.

The commands import only light modules before their options are parsed (`--help` and
argument errors answer without TensorFlow); `begin` says what the command is about to do
before anything imports TensorFlow.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tf_lvae.data.arrays import DatasetError
from tf_lvae.errors import TrainingFailed

USER_ERRORS = (ValueError, DatasetError, FileNotFoundError, FileExistsError)
# Where the project's code lives: what it raises is about the user's input (`_raised_here`).
PROJECT_PACKAGES = tuple(
    Path(__file__).resolve().parents[1] / name
    for name in ("tf_lvae", "training", "export", "tools")
)
# After SIGTERM a command has this long to stop on its own; then it exits at once, within
# `docker stop`'s 10 s and schedulers' grace periods (every file it writes is written
# atomically, so what it leaves is complete). The rest of the 10 s is the margin for the
# exit itself, which takes seconds on a loaded machine.
SIGTERM_GRACE = 5.0
_sigterm_watcher: threading.Thread | None = None
_command_running = threading.Event()


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler, `docker stop`), handled as Ctrl-C: writes in progress are
    abandoned cleanly and the run stays resumable."""


def _terminate(signum, frame):
    raise Terminated


def _watch_sigterm() -> None:
    """Starts (once) a thread that sees SIGTERM at once: TensorFlow runs compiled calls
    without returning to Python, and the Python handler (`_terminate`) waits for the call
    to end, tens of seconds for an evaluation. The signal's C handler writes it to a wakeup
    socket (`signal.set_wakeup_fd`) whichever thread it reaches; the thread reading it
    ends the process if the command is still running SIGTERM_GRACE s later."""
    global _sigterm_watcher
    if _sigterm_watcher is not None:
        return
    receiver, sender = socket.socketpair()
    sender.setblocking(False)
    signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)

    def watch(receiver: socket.socket, sender: socket.socket) -> None:  # both kept open
        while True:
            if signal.SIGTERM not in receiver.recv(64) or not _command_running.is_set():
                continue
            deadline = time.monotonic() + SIGTERM_GRACE
            while _command_running.is_set() and time.monotonic() < deadline:
                time.sleep(0.1)
            if _command_running.is_set():
                print(
                    f"terminated (SIGTERM): still busy {SIGTERM_GRACE:g} s later, exiting now; "
                    "every file written is complete (written atomically): continue as usual",
                    file=sys.stderr,
                    flush=True,
                )
                os._exit(143)

    _sigterm_watcher = threading.Thread(
        target=watch, name="sigterm", args=(receiver, sender), daemon=True
    )
    _sigterm_watcher.start()


@contextlib.contextmanager
def interruption_note(note: Callable[[], str]) -> Iterator[None]:
    """When Ctrl-C or SIGTERM interrupts the block, note() (asked then: e.g. whether a run
    exists yet) says where the command stands; `run_command` prints it."""
    try:
        yield
    except KeyboardInterrupt as interruption:
        interruption.args = (note(),)
        raise


def run_command(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    """Runs main(argv); a user error prints `error: <message>` on stderr and returns 2, a
    run that cannot go on (TrainingFailed) prints its message and returns 1, Ctrl-C or
    SIGTERM prints what happened (and main's `interruption_note`) and returns 130 or
    143."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    _watch_sigterm()
    _command_running.set()
    try:
        return main(argv)
    except USER_ERRORS as error:
        if not _raised_here(error):  # a bug below us (TensorFlow, Keras, NumPy): show it
            traceback.print_exc()
            return 1
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (TrainingFailed, OSError) as error:  # OSError: e.g. the disk filled up
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interruption:
        terminated = isinstance(interruption, Terminated)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        note = f"; {interruption.args[0]}" if interruption.args else ""
        print(f"{what}{note}", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        _command_running.clear()
        signal.signal(signal.SIGTERM, previous)


def _raised_here(error: Exception) -> bool:
    """Whether the project's own code raised `error` (its innermost frame is in one of
    PROJECT_PACKAGES): a ValueError (or a missing file) raised there says what the user
    gave wrong, one raised inside TensorFlow, Keras or NumPy is a bug worth its
    traceback."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return True
    path = Path(frame.tb_frame.f_code.co_filename).resolve()
    return any(path.is_relative_to(package) for package in PROJECT_PACKAGES)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _bounded_int(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _bounded_int(text, 0)


def int_in(low: int, high: int) -> Callable[[str], int]:
    """argparse type: an integer in [low, high]."""
    return lambda text: _bounded_int(text, low, high)


def _bounded_int(text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"must be <= {high:,}, got {value:,}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    return _bounded_float(text, 0.0, strict=True)


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _bounded_float(text, 0.0, strict=False)


def _bounded_float(text: str, low: float, strict: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < low or (strict and value == low):
        raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low:g}, got {value}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    """argparse type: comma-separated positive integers, e.g. 64,32,16."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 64,32,16, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return values


def run_folder(text: str) -> str:
    """argparse type: the folder of a run, which holds its config.json."""
    path = Path(text).expanduser()
    if not (path / "config.json").is_file():
        what = (
            "is a file"
            if path.is_file()
            else "does not exist"
            if not path.exists()
            else "holds no config.json"
        )
        raise argparse.ArgumentTypeError(
            f"{text} {what}: give a run directory, the --out folder of python -m training.fit"
        )
    return text


def run_parser(prog: str, description: str) -> ArgumentParser:
    """The parser of a command on a trained run: --run and --data-dir."""
    parser = ArgumentParser(prog=prog, description=description)
    add_run(parser)
    add_run_data_dir(parser)
    return parser


def add_field_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    fields: Sequence[tuple[str, Callable[[str], Any], str]],
) -> None:
    """--NAME options for fields (name, type, help) of the dataclass `cls`: absent unless
    given (`given_fields`), their help ending with the field's default."""
    for name, kind, help_text in fields:
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            default=argparse.SUPPRESS,
            help=f"{help_text} (default {default_of(cls, name)})"
            if help_text
            else f"default {default_of(cls, name)}",
        )


def add_run(parser: argparse.ArgumentParser) -> None:
    """--run: the run directory a command works on, checked before TensorFlow starts."""
    parser.add_argument(
        "--run",
        required=True,
        type=run_folder,
        help="run directory of `python -m training.fit` (its --out)",
    )


def add_run_data_dir(parser: argparse.ArgumentParser) -> None:
    """--data-dir of a command on a finished run: where this machine has the run's data."""
    parser.add_argument(
        "--data-dir",
        help="the folder of the run's data on this machine (default: its config.json's data_dir)",
    )


def image_size(text: str) -> tuple[int, int]:
    """argparse type: an image size H,W, or N for N x N."""
    sizes = int_list(text)
    if len(sizes) > 2:
        raise argparse.ArgumentTypeError(f"expected H,W or N, got {text!r}")
    return (sizes[0], sizes[-1])


def given_fields(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The options given on the command line whose destinations are fields of the dataclass
    `cls`, by field name. Options declared with `default=argparse.SUPPRESS` are absent unless
    given, so the dataclass's own defaults apply to the rest."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {name: value for name, value in vars(args).items() if name in names}


def add_no_xla(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--no-xla: sets the config field jit_compile to False when given (speed only)."""
    parser.add_argument(
        "--no-xla",
        dest="jit_compile",
        action="store_false",
        default=argparse.SUPPRESS,
        help="speed only: no XLA compilation",
    )


def default_of(cls: type, name: str) -> Any:
    """The default of field `name` of the dataclass `cls` (for help texts)."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """--verbose: TensorFlow's C++ start-up lines are shown (see `begin`)."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's C++ log lines (hidden by default unless TF_CPP_MIN_LOG_LEVEL "
        "is set)",
    )


def begin(line: str, verbose: bool) -> None:
    """Prints the command's first line (what it is about to do), then, unless `verbose` or
    the user set TF_CPP_MIN_LOG_LEVEL, sets it to 3 so that TensorFlow's C++ logging hides
    its start-up lines (those it prints before its logging is set up stay: no setting
    hides them). Call it before anything imports TensorFlow."""
    print(line, flush=True)
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: `<prog>: error: <message> (see --help)`, exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")
