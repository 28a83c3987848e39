"""The training command end to end: python -m training.fit on the bundled MNIST slice."""

import csv
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.support.stopped_run import stop_in_last_epoch
from tests.support.waiting import wait_for_checkpoint
from tf_lvae.cli import run_command
from tf_lvae.data import load_dataset
from tf_lvae.evaluation.batch_norm import batch_norm_layers
from tf_lvae.runs.checkpoints import load_run_model
from tf_lvae.runs.configure import configure_run
from tf_lvae.runs.run_dir import RunDir
from training.fit import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tf_lvae" / "data" / "samples" / "mnist_sample.npz"
SHORT = ["--dataset", "mnist-sample", "--final-iw-samples", "20", "--eval-every", "1"]
SHORT += ["--eval-iw-samples", "5", "--unit-kl-examples", "100", "--monitor-every", "1"]
QUICK = [*SHORT, "--layers", "2"]  # the paper's 2-layer model
SMALL = [*SHORT, "--latent-dims", "8,4", "--hidden-dims", "64,32"]  # where sizes do not matter


def fit(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "training.fit", *args],
        cwd=ROOT,
        env=env,
        text=True,
        **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs},
    )


def tensorboard_log(folder: Path) -> dict[str, list]:
    """The summaries of a TensorBoard log folder read back: tag -> [(step, value)], an
    image's value being (width, height, PNG bytes), a scalar's a float."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    log.Reload()
    return {
        tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in log.Tensors(tag)]
        for tag in log.Tags()["tensors"]
    }


def metrics(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def fit_in_a_terminal(*args: str) -> str:
    """training.fit with its stdout on a terminal (a pty); returns what the terminal showed."""
    primary, terminal = pty.openpty()
    process = fit(*args, stdout=terminal)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the run ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert process.wait(timeout=600) == 0, process.stderr.read()
    return b"".join(chunks).decode()


def test_a_two_epoch_run_shows_its_progress_and_fills_the_run_directory(tmp_path):
    run = tmp_path / "run"
    out = fit_in_a_terminal(*QUICK, "--epochs", "2", "--out", str(run))
    assert "━" in out  # Keras's progress bar
    for epoch in (1, 2):  # a line of its own, after the epoch's last bar update
        assert re.search(rf"\r?\nepoch {epoch}/2 \| elbo", out), out
    assert "test log-likelihood" in out
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["latent_dims"] == [64, 32] and config["training"]["epochs"] == 2
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000001",
        "epoch-000002",
    ]
    rows = metrics(run)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[1]["elbo"]) > float(rows[0]["elbo"])  # training lowers the loss
    for key in ("test_elbo", "test_log_likelihood", "kl_z1", "kl_z2", "beta", "learning_rate"):
        assert np.isfinite(float(rows[1][key])), key
    with np.load(run / "unit_kl.npz") as record:
        assert record["epochs"].tolist() == [1, 2]
        assert record["layer_1"].shape == (2, 64) and record["layer_2"].shape == (2, 32)
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    board = tensorboard_log(run / "tensorboard" / "test")
    for name in ("prior_samples", "reconstructions", "layer_samples", "unit_kl"):
        assert [step for step, _ in board[name]] == [0, 1]  # every epoch: --monitor-every 1
        width, height, png = board[name][-1][1]
        assert png.startswith(b"\x89PNG") and int(width) > 28 and int(height) > 28
    assert [step for step, _ in board["elbo"]] == [0, 1]
    assert board["elbo"][1][1] == pytest.approx(float(rows[1]["test_elbo"]), rel=1e-6)
    assert board["log_likelihood"][1][1] == pytest.approx(float(rows[1]["test_log_likelihood"]))
    with np.load(run / "unit_kl.npz") as record:  # each layer's KL in the latest record
        assert board["kl_z2"][1][1] == pytest.approx(record["layer_2"][-1].sum(), rel=1e-5)
    results = json.loads((run / "results.json").read_text())
    assert results["test"]["iw_samples"] == 20 and results["test"]["examples"] == 1000
    assert results["test"]["elbo"] < results["test"]["log_likelihood"] < 0
    model = keras.saving.load_model(run / "model.keras")
    assert model.model_config.latent_dims == (64, 32)
    # the final numbers and model.keras use batch-norm statistics recomputed from one pass
    # over the training set (docs/method.md §4), not the moving averages of the checkpoint
    assert results["batch_norm_statistics"]["used"] == "recomputed"
    assert model.batch_norm_statistics == {"recomputed_from": 5000, "seed": 0}
    moving = load_run_model(run, "latest")
    assert not np.allclose(
        batch_norm_layers(model)[0].moving_mean.numpy(),
        batch_norm_layers(moving)[0].moving_mean.numpy(),
    )


def signal_after_checkpoint(process: subprocess.Popen, run: Path, epoch: int, signum: int) -> str:
    """Sends `signum` to the training `process` once it has checkpointed `epoch` (so in the
    epoch after it, or writing its metrics); returns its stderr."""
    wait_for_checkpoint(run, epoch, process, lambda: str(process.communicate()))
    process.send_signal(signum)
    return process.communicate(timeout=120)[1]


def test_an_interrupted_run_resumes_to_the_same_result_as_an_uninterrupted_one(tmp_path):
    """Stopped by SIGTERM, resumed and killed, then resumed from a damaged checkpoint: the
    run ends with the metrics and numbers of a run that was never interrupted."""
    args = [*SMALL, "--epochs", "4", "--no-xla", "--final-iw-samples", "5"]
    reference = fit(*args, "--out", str(tmp_path / "reference"))
    run = tmp_path / "run"
    process = fit(*args, "--out", str(run))
    err = signal_after_checkpoint(process, run, 1, signal.SIGTERM)
    assert process.returncode == 143, err
    assert f"terminated (SIGTERM); checkpoints are kept, continue with --resume --out {run}" in err
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]

    process = fit("--resume", "--out", str(run))
    signal_after_checkpoint(process, run, 3, signal.SIGKILL)
    assert not (run / "model.keras").exists()

    latest = max((run / "checkpoints").glob("epoch-*"))
    variables = latest / "variables.npz"
    variables.write_bytes(variables.read_bytes()[: variables.stat().st_size // 2])
    stale = run / "checkpoints" / ".epoch-000009-0123456789ab"
    stale.mkdir()
    out, err = fit("--resume", "--out", str(run)).communicate(timeout=600)
    assert f"warning: {latest} is damaged" in err and "using the checkpoint before it" in err
    assert f"removed {stale}" in out and not stale.exists()
    assert f"epochs {int(latest.name[-6:])}..4" in out, out + err

    reference.communicate(timeout=600)
    assert metrics(run) == metrics(tmp_path / "reference")
    results = [json.loads((d / "results.json").read_text()) for d in (run, tmp_path / "reference")]
    assert results[0]["epochs"] == 4
    assert results[0]["test"]["log_likelihood"] == results[1]["test"]["log_likelihood"]
    with np.load(run / "unit_kl.npz") as record:
        assert record["epochs"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "cifar"], "unknown dataset 'cifar'"),
        (
            ["--dataset", "mnist-sample", "--latent-dims", "64,32", "--hidden-dims", "512"],
            "one width per latent layer",
        ),
        (["--dataset", "mnist-sample", "--epochs", "-3"], "--epochs: must be >= 0"),
        (["--dataset", "mnist-sample", "--layers", "7"], "--layers must be 1..5"),
        (["--dataset", "mnist-sample", "--latent-dims", "64", "--layers", "2"], "not allowed with"),
        (["--dataset", "mnist-sample", "--batch-size", "9000"], "larger than the 5000 training"),
        (["--resume", "--out", "/nonexistent/run"], "nothing to resume"),
        (["--epochs", "3"], "--dataset is required"),
        (["--dataset", "mnist-sample", "--validation", "-1"], "must select between 1 and 4999"),
        (["--dataset", "mnist-sample", "--validation", "nan"], "got nan"),
        (["--dataset", "mnist-sample", "--validation", "1e9"], "got 1000000000"),
        (["--dataset", "mnist-sample", "--seed", str(2**40)], "seed must be below 2**31"),
        (["--dataset", "mnist-sample", "--validation", "4900"], "left after the validation"),
        (["--dataset", "mnist-sample", "--batch-size", "1"], "batch norm needs batches of 2"),
        (["--dataset", "mnist", "--data-dir", "/no/such/mnist"], "no such folder"),
        (["--dataset", "mnist-sample", "--out", "/proc/tf_lvae/run"], "cannot write the run"),
        (["--resume", "--finetune", "--out", "/tmp"], "cannot be combined"),
        # options that would do nothing, or nothing sensible, are refused (issue 42, class 4)
        (["--dataset", "mnist-sample", "--free-bits", "1e39"], "that float32 holds, got 1e+39"),
        (["--dataset", "mnist-sample", "--free-bits", "5000"], "more than any data this model"),
        (["--dataset", "folder:"], "'folder:' names no path: give folder:PATH"),
        (["--dataset", "npz: "], "'npz: ' names no path"),
        (["--dataset", "npz:x.npz", "--download"], "--download is for datasets tensorflow-"),
        (["--dataset", "folder:imgs", "--download"], "not folder:imgs"),
        (["--dataset", "mnist-sample", "--residual-blocks", "2"], "is for --architecture conv"),
        (["--dataset", "mnist-sample", "--model", "vae", "--top-down", "shared"], "has none"),
        (["--dataset", "mnist-sample", "--free-bits-group", "channel"], "needs --free-bits"),
        (["--dataset", "mnist-sample", "--sync-batch-norm"], "is for --strategy mirrored"),
        (["--dataset", "mnist-sample", "--no-dequantize"], "mnist-sample is not dequantized"),
    ],
)
def test_wrong_arguments_exit_2_with_one_line(argv, message, user_error, tmp_path):
    out = [] if "--out" in argv else ["--out", str(tmp_path / "r")]
    user_error(main, [*argv, *out], message)
    assert not (tmp_path / "r").exists()  # nothing is written before every check passed
    assert not Path("/no/such/mnist").exists()


def test_a_data_folder_without_the_files_is_left_alone_and_says_how_to_get_them(
    tmp_path, user_error
):
    folder, out = tmp_path / "my-data", tmp_path / "run"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's own")
    argv = ["--dataset", "omniglot", "--data-dir", str(folder), "--out", str(out)]
    user_error(main, argv, f"{folder} holds none of chardata.mat")
    user_error(main, [*argv, "--resume", "--download"], "--download is for a new run")
    assert [p.name for p in folder.iterdir()] == ["notes.txt"] and not out.exists()


def test_an_interrupted_start_that_made_no_run_says_nothing_about_resuming(
    tmp_path, capsys, monkeypatch
):
    from tf_lvae.cli import Terminated
    from tf_lvae.runs import start

    def terminated(*args, **kwargs):
        raise Terminated  # SIGTERM while the data loads

    monkeypatch.setattr(start, "load_dataset", terminated)
    out = tmp_path / "run"
    assert run_command(main, ["--dataset", "mnist-sample", "--out", str(out)]) == 143
    err = capsys.readouterr().err
    assert err == f"terminated (SIGTERM); no run was created in {out}\n" and not out.exists()


def test_an_existing_run_is_not_overwritten(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "metrics.csv").write_text("epoch,elbo\n1,-100\n")  # it trained an epoch
    assert run_command(main, ["--dataset", "mnist-sample", "--out", str(run)]) == 2
    assert "already holds a run; continue it with --resume" in capsys.readouterr().err
    assert (run / "config.json").read_text() == "{}"


def test_a_run_that_goes_non_finite_stops_with_one_line_and_writes_no_bad_checkpoint(
    tmp_path, capsys
):
    run = tmp_path / "run"
    argv = ["--dataset", "mnist-sample", "--layers", "2", "--lr", "1e8", "--epochs", "4"]
    status = run_command(main, [*argv, "--no-xla", "--final-iw-samples", "10", "--out", str(run)])
    out, err = capsys.readouterr()
    assert status == 1, out + err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "not finite" in lines[0] and "Traceback" not in err
    assert not (run / "results.json").exists()
    for folder in (run / "checkpoints").glob("epoch-*"):
        with np.load(folder / "variables.npz") as saved:
            assert all(
                np.isfinite(saved[k]).all() for k in saved.files if saved[k].dtype.kind == "f"
            )


def test_a_run_that_never_trained_resumes_from_its_first_epoch(tmp_path, capsys):
    run = tmp_path / "run"
    config = configure_run(
        "mnist-sample",
        load_dataset("mnist-sample"),
        model={"latent_dims": (4, 2), "hidden_dims": (16, 8)},
        training={"epochs": 1, "jit_compile": False},
        eval_every=0,
        unit_kl_examples=0,
        final_iw_samples=2,
    )
    RunDir(run).write_config(config)  # config.json alone: a start stopped before epoch 1
    assert main(["--resume", "--out", str(run)]) == 0
    assert "epochs 1..1" in capsys.readouterr().out
    assert json.loads((run / "results.json").read_text())["epochs"] == 1


def test_a_damaged_config_is_named_with_what_to_do(tmp_path, user_error):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"dataset": "mnist-sa')
    user_error(main, ["--resume", "--out", str(run)], "config.json is damaged")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 1-epoch run."""
    run = tmp_path_factory.mktemp("finished") / "run"
    argv = ["--dataset", "mnist-sample", "--latent-dims", "8,4", "--hidden-dims", "32,16"]
    argv += ["--epochs", "1", "--no-xla", "--final-iw-samples", "2", "--eval-every", "0"]
    assert main([*argv, "--unit-kl-examples", "0", "--out", str(run)]) == 0
    return run


def test_options_that_contradict_the_run_are_refused(finished, user_error):
    user_error(
        main,
        ["--resume", "--out", str(finished), "--dataset", "omniglot", "--lr", "5"],
        "learning_rate 5.0 (saved 0.001)",
    )
    user_error(main, ["--resume", "--out", str(finished), "--epochs", "0"], "not shortened")
    user_error(main, ["--resume", "--out", str(finished), "--model", "vae"], "kind 'vae'")


def test_resume_with_more_epochs_extends_a_finished_run(finished, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    assert main(["--resume", "--out", str(copy), "--epochs", "2", "--lr", "0.001"]) == 0
    assert "extending the run from 1 to 2 epochs" in capsys.readouterr().out
    assert [r["epoch"] for r in metrics(copy)] == ["1", "2"]
    assert json.loads((copy / "config.json").read_text())["training"]["epochs"] == 2


def test_finetune_continues_a_finished_run_with_the_papers_settings(finished, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(finished, base)
    assert main(["--finetune", "--epochs", "1", "--out", str(base)]) == 0
    tuned = base / "finetune"
    config = json.loads((tuned / "config.json").read_text())
    t = config["training"]
    assert (t["epochs"], t["mc_samples"], t["iw_samples"], t["warmup_epochs"]) == (2, 10, 10, 0)
    assert (t["lr_decay_rate"], t["lr_decay_start"]) == (0.75, 1)
    assert config["init_from"] == str(base.resolve())
    assert [r["epoch"] for r in metrics(tuned)] == ["2"]  # continues after the base's epoch 1
    results = json.loads((tuned / "results.json").read_text())
    assert results["epochs"] == 2
    # it records that it took the base's Adam state: the steps of the base's one epoch
    assert results["started_from"] == {"run": str(base.resolve()), "epochs": 1,
                                       "optimizer_steps": 19}  # fmt: skip


def test_a_failed_finetune_writes_nothing(finished, tmp_path, user_error):
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    config = json.loads((copy / "config.json").read_text())
    config["training"]["epochs"] = 5  # the run is unfinished now
    (copy / "config.json").write_text(json.dumps(config))
    user_error(main, ["--finetune", "--out", str(copy)], "has done 1 of its 5 epochs")
    assert not (copy / "finetune").exists()


def test_a_second_writer_is_refused_and_a_killed_one_leaves_no_lock(finished, tmp_path, user_error):
    with RunDir(finished).lock():
        user_error(main, ["--resume", "--out", str(finished)], f"(pid {os.getpid()})")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from tf_lvae.runs.run_dir import RunDir\n"
         "with RunDir(sys.argv[1]).lock():\n    print('locked', flush=True); time.sleep(60)",
         str(finished)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    with RunDir(finished).lock():  # released by the OS with the killed process
        pass


def test_a_damaged_record_is_found_before_training_starts(finished, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    (copy / "metrics.csv").write_text("epoch,elbo\n1,-100\nnot a row at all\n")
    assert run_command(main, ["--resume", "--out", str(copy), "--epochs", "2"]) == 2
    captured = capsys.readouterr()
    assert "metrics.csv is damaged" in captured.err and "move it away" in captured.err
    assert "training" not in captured.out and not (copy / "checkpoints" / "epoch-000002").exists()
    assert json.loads((copy / "config.json").read_text())["training"]["epochs"] == 1


def test_a_run_trains_on_a_folder_of_images_and_reports_bits_per_dim(tmp_path, capsys):
    """8-bit grey PNGs of two sizes, resized: a Gaussian model on dequantized values; its
    bits/dim by the formula, above the 8 bits of these uniformly random pixels."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 40), ("test", 10)):
        for i in range(count):
            pixels = rng.integers(0, 256, (8 + i % 2, 6, 1), dtype=np.uint8)
            path = tmp_path / "images" / split / f"{i:02d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            tf.io.write_file(str(path), tf.io.encode_png(pixels))
    run = tmp_path / "run"
    argv = ["--dataset", f"folder:{tmp_path / 'images'}", "--image-size", "4,3"]
    argv += ["--latent-dims", "3,2", "--hidden-dims", "8,8", "--epochs", "2", "--no-xla"]
    argv += ["--batch-size", "10", "--final-iw-samples", "4", "--unit-kl-examples", "5"]
    assert main([*argv, "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["image_size"] == [4, 3] and config["model"]["input_shape"] == [4, 3]
    assert config["model"]["likelihood"] == "gaussian" and config["dequantize"]
    test = json.loads((run / "results.json").read_text())["test"]
    dims, scale = 12, 256
    expected = (-test["log_likelihood"] + dims * np.log(scale)) / (dims * np.log(2))
    assert test["dequantization_scale"] == scale
    assert test["bits_per_dim"] == pytest.approx(expected, rel=1e-12)
    assert test["bits_per_dim"] > 8  # an upper bound on the 8 bits of uniform pixels
    assert f"(<= {test['bits_per_dim']:.3f} bits/dim)" in capsys.readouterr().out
    # resuming reads the folder again with the run's image size, so does evaluate
    assert main(["--resume", "--out", str(run), "--epochs", "3"]) == 0
    assert [r["epoch"] for r in metrics(run)] == ["1", "2", "3"]
    from training import evaluate

    assert evaluate.main(["--run", str(run), "--iw-samples", "4", "--no-xla"]) == 0
    report = json.loads((run / "evaluation-test.json").read_text())
    expected = (-report["log_likelihood"] + dims * np.log(scale)) / (dims * np.log(2))
    assert report["bits_per_dim"] == pytest.approx(expected, rel=1e-12)


CONV = ["--architecture", "conv", "--latent-dims", "4,3", "--hidden-dims", "8,8"]
CONV += ["--strides", "2,2", "--residual-blocks", "1", "--free-bits", "0.1", "--batch-size", "64"]
CONV += ["--final-iw-samples", "10", "--eval-every", "1", "--eval-iw-samples", "3"]
CONV += ["--unit-kl-examples", "100", "--warmup-epochs", "1", "--monitor-every", "1"]


def small_digits(path: Path) -> Path:
    """An .npz of 16x16 crops of the bundled MNIST sample: 640 training, 200 test images."""
    with np.load(SAMPLE) as sample:
        crop = np.s_[:, 6:22, 6:22]
        np.savez(path, x_train=sample["x_train"][:640][crop], x_test=sample["x_test"][:200][crop])
    return path


def test_a_convolutional_run_trains_resumes_evaluates_plots_and_exports(tmp_path, capsys):
    from export.saved_model import main as export
    from training.evaluate import main as evaluate
    from training.plots import main as plots

    conv = ["--dataset", f"npz:{small_digits(tmp_path / 'digits.npz')}", *CONV]
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert main([*conv, "--epochs", "2", "--out", str(reference)]) == 0
    shutil.copytree(reference, resumed)
    stop_in_last_epoch(resumed, "model.keras", "results.json")
    assert main(["--resume", "--out", str(resumed)]) == 0
    assert f"epochs 2..2 into {resumed}" in capsys.readouterr().out
    assert metrics(resumed) == metrics(reference)
    with np.load(resumed / "unit_kl.npz") as record:
        assert record["epochs"].tolist() == [1, 2]
    config = json.loads((reference / "config.json").read_text())
    assert config["model"]["architecture"] == "conv" and config["training"]["free_bits"] == 0.1
    with np.load(reference / "unit_kl.npz") as record:
        assert record["layer_1"].shape == (2, 8, 8, 4) and record["layer_2"].shape == (2, 4, 4, 3)

    assert evaluate(["--run", str(reference), "--iw-samples", "10", "--examples", "100"]) == 0
    report = json.loads((reference / "evaluation-test-examples-0-100.json").read_text())
    assert len(report["active_units"]["channels_per_layer"]) == 2
    assert report["active_units"]["total"] <= 8 * 8 * 4 + 4 * 4 * 3
    assert np.shape(report["unit_kl_to_prior"][0]) == (8, 8, 4)

    assert plots(["--run", str(reference), "--examples", "200", "--samples", "10"]) == 0
    for name in ("unit_kl.png", "pca.png", "layer_samples.png", "bounds.png"):
        assert (reference / "plots" / name).is_file()

    assert export(["--run", str(reference), "--out", str(tmp_path / "export")]) == 0
    served = tf.saved_model.load(str(tmp_path / "export" / "1"))
    encoded = served.signatures["encode"](x=tf.zeros([2, 16, 16]))
    assert encoded["z1_mean"].shape == (2, 8, 8, 4)

    assert main(["--finetune", "--epochs", "1", "--out", str(reference)]) == 0
    tuned = json.loads((reference / "finetune" / "config.json").read_text())["training"]
    assert (tuned["free_bits"], tuned["iw_samples"], tuned["epochs"]) == (0.0, 10, 3)
    capsys.readouterr()
