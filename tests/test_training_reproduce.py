"""python -m training.reproduce: a resumable runner of the paper's experiments, and its errors."""

import json

import pytest

from tests.support.small_sample import small_sample
from tests.support.stopped_run import stop_in_last_epoch
from tf_lvae.cli import run_command
from training.reproduce import main

QUICK = ["--epochs", "2", "--iw-samples", "3", "--no-xla"]
QUICK += ["--eval-iw-samples", "2", "--unit-kl-examples", "50"]


def reproduce(out, dataset: str, capsys) -> str:
    argv = ["--experiment", "figure3", *QUICK, "--dataset", dataset, "--layers", "1-2"]
    argv += ["--variants", "VAE,LVAE+BN+WU", "--out", str(out)]
    assert run_command(main, argv) == 0
    return capsys.readouterr().out


def test_the_runner_skips_finished_runs_and_resumes_interrupted_ones(tmp_path, capsys):
    out = tmp_path / "reproduce"
    dataset = small_sample(tmp_path / "small.npz", train=1024)
    reproduce(out, dataset, capsys)
    runs = ["vae_1-layers", "vae_2-layers", "lvae-bn-wu_2-layers"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(runs)
    first = json.loads((out / "figure3.json").read_text())
    assert [(r["variant"], r["layers"]) for r in first["runs"]] == [
        ("VAE", 1),
        ("VAE", 2),
        ("LVAE+BN+WU", 2),
    ]
    table = (out / "figure3.md").read_text()
    assert "2 of the paper's 2000 epochs" in table and "K = 3" in table
    lvae = next(r for r in first["runs"] if r["variant"] == "LVAE+BN+WU")
    assert f"{lvae['log_likelihood']:.2f} (–) |".replace("-", "−") in table
    assert (out / "figure3.png").is_file()
    report = json.loads((out / "vae_1-layers" / "evaluation-test.json").read_text())
    assert report["iw_samples"] == 3 and report["batch_norm_statistics"]["used"] == "none"

    # Interrupt the LVAE in its second epoch: only the first checkpoint remains.
    interrupted = out / "lvae-bn-wu_2-layers"
    stop_in_last_epoch(interrupted, "model.keras", "results.json", "evaluation-test.json")
    finished = out / "vae_1-layers" / "evaluation-test.json"
    before = finished.stat().st_mtime_ns

    log = reproduce(out, dataset, capsys)
    assert f"{out / 'vae_1-layers'} is finished" in log
    assert f"{out / 'vae_2-layers'} is finished" in log
    assert f"epochs 2..2 into {interrupted}" in log
    assert finished.stat().st_mtime_ns == before  # not evaluated again
    second = json.loads((out / "figure3.json").read_text())
    assert [r["log_likelihood"] for r in second["runs"][:2]] == [
        r["log_likelihood"] for r in first["runs"][:2]
    ]
    assert json.loads((interrupted / "evaluation-test.json").read_text())["epochs_trained"] == 2

    # Another budget in the same folder is refused rather than mixed.
    argv = ["--experiment", "figure3", *QUICK, "--dataset", dataset, "--layers", "1"]
    argv += ["--variants", "VAE"]
    assert run_command(main, [*argv, "--epochs", "3", "--out", str(out)]) == 2
    assert "holds a run with other settings (training.epochs: 2 -> 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--experiment", "table4"], "unknown experiment 'table4'"),
        (["--experiment", "table2", "--layers", "3"], "3 is not among them"),
        (["--experiment", "figure3", "--layers", "x"], "expected layers like 5, 1-3"),
        (["--experiment", "figure3", "--iw-samples", "0"], "--iw-samples: must be >= 1"),
        (["--experiment", "figure3", "--variants", "IWAE"], "unknown variant 'IWAE'"),
        (["--experiment", "figure3", "--dataset", "cifar"], "unknown dataset 'cifar'"),
        (["--experiment", "figure3", "--out", "{file}"], "is a file, not a folder"),
        (["--experiment", "table1", "--fine-tuning-epochs", "15"], "multiple of 10 epochs"),
        (["--experiment", "table2", "--fine-tuning-epochs", "10"], "table2 has no fine-tuning"),
        (["--experiment", "table1", "--variants", "VAE"], "VAE is not among them"),
        (["--experiment", "table1", "--fine-tunings", "mc5"], "unknown fine-tuning 'mc5'"),
        (
            ["--experiment", "table2", "--fine-tunings", "lr"],
            "table2 has no fine-tuning: drop --fine-tunings",
        ),
    ],
)
def test_wrong_arguments_exit_2_with_one_line(argv, message, tmp_path, user_error):
    (tmp_path / "file").write_text("")
    argv = [a.format(file=tmp_path / "file") for a in argv]
    user_error(
        main, [*argv, "--out", str(tmp_path / "out")] if "--out" not in argv else argv, message
    )
    assert not (tmp_path / "out").exists()
