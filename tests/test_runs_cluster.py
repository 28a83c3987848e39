"""Training on a cluster: two MultiWorkerMirroredStrategy workers on loopback, each a
process with its own working folder (as on separate hosts), started by
`tf_lvae.runs.loopback`. The same command runs on both; only the chief (worker 0)
writes the run directory. Its reference is one process training on two local replicas
(MirroredStrategy), whose own exact resume is checked here too, from the same run."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.support.stopped_run import stop_in_last_epoch
from tests.support.waiting import wait_for_checkpoint
from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.data import load_dataset
from tf_lvae.run_config import RunConfig
from tf_lvae.runs import loopback as cluster
from tf_lvae.runs.cluster import broadcast_from_chief, share_config
from tf_lvae.runs.configure import configure_run
from tf_lvae.runs.loop import replica_batches
from tf_lvae.runs.train import fit_run
from training import fit

SMALL_RUN = [
    "--dataset", "mnist-sample", "--latent-dims", "4,2", "--hidden-dims", "16,8",
    "--warmup-epochs", "1", "--eval-every", "0", "--unit-kl-examples", "0",
    "--final-iw-samples", "10",
]  # fmt: skip
# What only the chief runs during training: validation is a collective pass; the test
# bounds and the per-unit KL are the chief's alone.
CHIEF_EXTRAS = [
    "--validation", "500", "--eval-every", "1", "--eval-iw-samples", "10",
    "--unit-kl-examples", "50",
]  # fmt: skip
FIT = ["-m", "training.fit", "--out", "run", "--strategy", "multiworker"]
# with the chief's evaluations compiled by XLA, as by default (a training step under a
# strategy never is)
OPTIONS = [*SMALL_RUN, *CHIEF_EXTRAS, "--sync-batch-norm", "--epochs", "4"]
LAST_CHECKPOINT = "checkpoints/epoch-000004/variables.npz"
TWO_DEVICES = ["--strategy", "mirrored", "--devices", "CPU:0,CPU:1"]


def hosts(tmp_path: Path) -> list[Path]:
    return [tmp_path / "host0", tmp_path / "host1"]


def fit_in_a_process(out: Path, *options: str) -> subprocess.CompletedProcess:
    """training.fit in a fresh process (with TWO_DEVICES among the options: one process
    over 2 logical CPU devices, MirroredStrategy)."""
    return subprocess.run(
        [sys.executable, "-m", "training.fit", "--out", str(out), *options],
        cwd=cluster.REPO, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory) -> Path:
    """The run of OPTIONS trained uninterrupted by one process on two local replicas."""
    run = tmp_path_factory.mktemp("two_replicas") / "run"
    done = fit_in_a_process(run, *OPTIONS, *TWO_DEVICES)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 replicas" in done.stdout
    return run


def assert_same_run(run: Path, reference: Path) -> None:
    """`run` ends with the weights (bit for bit), the metrics and the test numbers (to 1e-5)
    of `reference`."""
    got, expected = np.load(run / LAST_CHECKPOINT), np.load(reference / LAST_CHECKPOINT)
    for name in expected.files:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    scores = [json.loads((r / "results.json").read_text()) for r in (run, reference)]
    assert scores[0]["epochs"] == 4
    for key in ("log_likelihood", "elbo"):
        assert scores[0]["test"][key] == pytest.approx(scores[1]["test"][key], rel=1e-6)
    rows, expected_rows = (
        list(csv.DictReader((r / "metrics.csv").open())) for r in (run, reference)
    )
    assert len(rows) == 4 and rows[0].keys() == expected_rows[0].keys()
    assert {"val_elbo", "test_log_likelihood", "skipped_steps"} <= rows[0].keys()
    for got_row, expected_row in zip(rows, expected_rows, strict=True):  # all logged values
        assert [float(v) for v in got_row.values()] == pytest.approx(
            [float(v) for v in expected_row.values()], rel=1e-5, nan_ok=True
        )


def test_a_mirrored_run_resumes_exactly_in_a_fresh_process(two_replicas, tmp_path):
    resumed = tmp_path / "resumed"
    shutil.copytree(two_replicas, resumed)
    stop_in_last_epoch(resumed, "model.keras", "results.json")
    done = fit_in_a_process(resumed, "--resume")  # the devices of its config.json
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 replicas" in done.stdout and f"epochs 4..4 into {resumed}" in done.stdout
    assert_same_run(resumed, two_replicas)
    config = json.loads((resumed / "config.json").read_text())
    assert config["training"]["strategy"] == "mirrored"
    assert config["model"]["synchronized_batch_norm"] is True


def run_cluster(folders: list[Path], *options: str) -> None:
    codes = cluster.finish(cluster.start([*FIT, *options], folders))
    errors = [cluster.log(folder, "err").read_text()[-2000:] for folder in folders]
    assert codes == [0, 0], errors


def test_the_workers_end_with_identical_weights(tmp_path):
    folders = hosts(tmp_path)
    codes = cluster.finish(
        cluster.start([str(cluster.REPO / "tests/support/cluster_weights.py")], folders)
    )
    assert codes == [0, 0], [cluster.log(f, "err").read_text()[-2000:] for f in folders]
    chief = np.load(folders[0] / "run" / "checkpoints" / "epoch-000001" / "variables.npz")
    worker = np.load(folders[1] / "weights.npz")
    names = sorted(chief.files, key=lambda n: (n.startswith("optimizer"), int(n.split("_")[1])))
    assert len(names) == len(worker.files) > 100  # the model's and the optimizer's variables
    for i, name in enumerate(names):
        np.testing.assert_array_equal(chief[name], worker[f"arr_{i}"], err_msg=name)
    assert not (folders[1] / "run").exists()


def stop_a_worker_after(folders: list[Path], command: list[str], epoch: int, killed: int) -> None:
    """Starts `command` on the cluster, SIGKILLs worker `killed` once the chief has written
    the checkpoint of `epoch`, and checks that the other worker stops, rather than waiting
    forever, with an error that says to resume. Its wait is loose on purpose: about 10 s
    (TensorFlow's heartbeat timeout) alone, but 67 s once in CI, with the rest of the suite
    on the same 2 cores."""
    processes = cluster.start([*FIT, *command], folders)
    try:
        wait_for_checkpoint(
            folders[0] / "run",
            epoch,
            processes[0],
            lambda: cluster.log(folders[0], "err").read_text()[-2000:],
        )
        processes[killed].send_signal(signal.SIGKILL)
        code = processes[1 - killed].wait(timeout=300)
    finally:
        cluster.finish(processes, timeout=1)
    err = cluster.log(folders[1 - killed], "err").read_text()
    assert code == 1, err[-2000:]
    assert "another worker of the cluster stopped" in err and "--resume" in err
    assert "Traceback" not in err


def test_killed_workers_stop_the_cluster_which_resumes_as_two_local_replicas_would_train(
    tmp_path, two_replicas
):
    """The chief killed in epoch 2, then the other worker in epoch 4 of the resumed run: each
    time the survivor stops, and the same command with --resume goes on. The run ends as
    the one process that trained it uninterrupted on two local replicas: 2 workers x 1
    replica == 1 process x 2 replicas."""
    folders = hosts(tmp_path)
    stop_a_worker_after(folders, OPTIONS, 1, killed=0)
    stop_a_worker_after(folders, ["--resume"], 3, killed=1)
    assert re.search(r"epochs [23]\.\.4", cluster.log(folders[0], "out").read_text())
    run_cluster(folders, "--resume")
    assert "epochs 4..4" in cluster.log(folders[0], "out").read_text()
    assert "the chief writes the run directory" in cluster.log(folders[1], "out").read_text()
    assert sorted(os.listdir(folders[1])) == []  # the other worker wrote nothing
    run = folders[0] / "run"
    assert (run / "model.keras").is_file() and (run / "unit_kl.npz").is_file()
    assert_same_run(run, two_replicas)


def test_a_worker_takes_its_replicas_slices_of_every_global_batch():
    batches = tf.data.Dataset.from_tensor_slices(np.arange(24).reshape(3, 8)).unbatch().batch(10)
    context = tf.distribute.InputContext(
        num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=4
    )  # worker 1 of 2, with replicas 2 and 3
    parts = [p.tolist() for p in replica_batches(batches, context).as_numpy_iterator()]
    # batches of 10, 10, 4: replica r takes [r * n // 4, (r + 1) * n // 4)
    assert parts == [[5, 6], [7, 8, 9], [15, 16], [17, 18, 19], [22], [23]]
    short = tf.data.Dataset.from_tensor_slices(np.arange(3)).batch(3)
    assert list(replica_batches(short, context).as_numpy_iterator()) == []


def test_the_chief_shares_its_config_and_arrays_exactly():
    strategy = tf.distribute.get_strategy()  # one process: it is the chief
    config = RunConfig(
        "mnist", "/data/ünïcode", ModelConfig(input_shape=(28, 28)), TrainingConfig(seed=7)
    )
    assert share_config(strategy, config) == config
    assert share_config(strategy, None) is None
    arrays = [np.array([2**62 + 1], np.int64), np.float32([[1.5, -0.0], [3e-39, 7]])]
    for sent, got in zip(arrays, broadcast_from_chief(strategy, arrays), strict=True):
        assert got.dtype == sent.dtype
        np.testing.assert_array_equal(got, sent)


TASK0 = '{"cluster": {"worker": %s}, "task": {"type": "worker", "index": 0}}'


@pytest.mark.parametrize(
    ("tf_config", "message"),
    [
        (None, "--strategy multiworker needs the cluster in TF_CONFIG"),
        ('{"cluster": {"worker": ["a:1"]}}', "TF_CONFIG is not a cluster and a task"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "index 1"),
        (TASK0 % '["a:1", "nohost:abc"]', "the worker address 'nohost:abc' is not HOST:PORT"),
        (TASK0 % '["a:1", "b:70000"]', "'b:70000' is not HOST:PORT, PORT in 1..65535"),
        (TASK0 % '["a:1", ":80"]', "':80' is not HOST:PORT"),
        (TASK0 % '["a:1", 80]', "the worker address 80 is not"),
    ],
)
def test_multiworker_needs_a_cluster_in_tf_config(user_error, monkeypatch, tf_config, message):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    argv = ["--dataset", "mnist-sample", "--strategy", "multiworker", "--out", "unused"]
    user_error(fit.main, argv, message)


def test_a_cluster_run_needs_the_strategy_made_at_the_start():
    data = load_dataset("mnist-sample")
    config = configure_run("mnist-sample", data, num_layers=1, training={"strategy": "multiworker"})
    with pytest.raises(ValueError, match="before TensorFlow runs anything and pass it"):
        fit_run(None, config, data)


def test_a_worker_stops_when_the_cluster_does_not_start(tmp_path):
    ports = cluster.free_ports(2)  # worker 1 never starts
    tf_config = {
        "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
        "task": {"type": "worker", "index": 0},
    }
    done = subprocess.run(
        [sys.executable, *FIT, *SMALL_RUN, "--cluster-timeout", "3"],
        cwd=tmp_path,
        env={**os.environ, "TF_CONFIG": json.dumps(tf_config), "PYTHONPATH": str(cluster.REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGALRM, done.stderr[-2000:]
    assert "this process stops if they have not all started within 3 s" in done.stdout
    assert not (tmp_path / "run").exists()


def test_non_finite_steps_are_counted_once_and_stop_the_cluster(tmp_path):
    folders = hosts(tmp_path)
    diverging = ["--dataset", "mnist-sample", "--layers", "2", "--lr", "1e8", "--epochs", "2"]
    diverging += ["--no-xla"]
    codes = cluster.finish(cluster.start([*FIT, *diverging], folders))
    chief_err, worker_err = (cluster.log(f, "err").read_text() for f in folders)
    assert codes == [1, 1], chief_err[-2000:] + worker_err[-2000:]
    assert "not finite: no checkpoint was written" in chief_err  # the chief's own check
    assert "another worker of the cluster stopped" in worker_err
    assert "its own output says why" in worker_err and "Traceback" not in worker_err
    assert not (folders[0] / "run" / "checkpoints").exists()
    mirrored = fit_in_a_process(tmp_path / "mirrored", *diverging, *TWO_DEVICES)
    skipped = [
        re.search(r"^epoch 1/2 .*\| (skipped steps \d+)", text, re.MULTILINE)
        for text in (cluster.log(folders[0], "out").read_text(), mirrored.stdout)
    ]
    assert skipped[0] and skipped[1], mirrored.stdout  # steps were skipped ...
    assert skipped[0].group(1) == skipped[1].group(1)  # ... and counted once, as by fit
