"""A multi-worker cluster on this machine: one process per worker, each with its own
TF_CONFIG (127.0.0.1, ports chosen free) and working folder, so that the workers' files
are kept apart as on separate hosts. For trying `--strategy multiworker`, for its tests
and for its benchmark; a real cluster sets TF_CONFIG on each host (docs/distributed.md)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the folder that holds tf_lvae and training


def free_ports(count: int) -> list[int]:
    """`count` TCP ports of 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start(command: list[str], folders: list[Path]) -> list[subprocess.Popen]:
    """Starts `python *command` once per folder, worker i (the chief: i = 0) in folders[i],
    with this checkout on its PYTHONPATH; each process's stdout and stderr go to
    FOLDER.out.txt and FOLDER.err.txt beside its folder (`log`)."""
    ports = free_ports(len(folders))
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    for index, folder in enumerate(folders):
        folder.mkdir(parents=True, exist_ok=True)
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {
            **os.environ,
            "TF_CONFIG": json.dumps(tf_config),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        with log(folder, "out").open("w") as out, log(folder, "err").open("w") as err:
            processes.append(
                subprocess.Popen(
                    [sys.executable, *command], cwd=folder, env=env, stdout=out, stderr=err
                )
            )
    return processes


def log(folder: Path, name: str) -> Path:
    """Where the worker run in `folder` writes its stdout ("out") or stderr ("err")."""
    return folder.parent / f"{folder.name}.{name}.txt"


def finish(processes: list[subprocess.Popen], timeout: float = 600) -> list[int]:
    """The processes' exit codes, waiting up to `timeout` s for each in turn; if one has not
    ended by then, kills them all and raises subprocess.TimeoutExpired."""
    try:
        return [p.wait(timeout=timeout) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
