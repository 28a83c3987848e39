"""python -m training.reproduce: the experiments as data, the table, and a resumable runner."""

import json
import shutil

import pytest

from tf_lvae.cli import run_command
from tf_lvae.data import load_dataset
from tf_lvae.experiment_tables import markdown
from tf_lvae.experiments import (
    EXPERIMENTS,
    PAPER_ACTIVE_TOTALS,
    PAPER_ACTIVE_UNITS,
    PAPER_NORB,
    PAPER_OMNIGLOT,
    VARIANTS,
    Budget,
    ReproduceSettings,
    get_variant,
    plan,
    run_config,
    scaled_warmup,
)
from training.reproduce import main

QUICK = ["--dataset", "mnist-sample", "--epochs", "2", "--iw-samples", "3", "--no-xla"]
QUICK += ["--eval-iw-samples", "2", "--unit-kl-examples", "50"]


def test_the_papers_numbers():
    for name, units in PAPER_ACTIVE_UNITS.items():
        assert sum(units) == PAPER_ACTIVE_TOTALS[name]
    assert PAPER_OMNIGLOT["LVAE+BN+WU"] == {2: -102.12, 3: -101.26, 4: -101.27, 5: -101.59}
    assert PAPER_OMNIGLOT["VAE"][1] == -114.45 and PAPER_NORB["VAE+BN+WU"][2] == 3532.9
    assert EXPERIMENTS["figure3"].paper_log_likelihood["LVAE+BN+WU"] == {5: -81.87}
    assert EXPERIMENTS["table2"].paper_log_likelihood["VAE+BN+WU"] == {5: -82.14}


@pytest.mark.parametrize(
    ("epochs", "paper", "warmup", "expected"),
    [(2000, 2000, 200, 200), (200, 2000, 200, 20), (1000, 4000, 1000, 250), (5, 2000, 200, 1)],
)
def test_the_warmup_scales_with_the_budget(epochs, paper, warmup, expected):
    assert scaled_warmup(epochs, paper, warmup) == expected


def test_the_runs_of_each_experiment():
    assert [(v.name, n) for v, n in plan(EXPERIMENTS["table2"])] == [(v.name, 5) for v in VARIANTS]
    figure3 = plan(EXPERIMENTS["figure3"])
    assert len(figure3) == 4 * 5 - 1  # no 1-layer LVAE: it is a VAE
    lvae = get_variant("lvae-bn-wu")
    assert plan(EXPERIMENTS["table3-norb"], [1, 5], [lvae]) == [(lvae, 5)]
    with pytest.raises(ValueError, match="3 is not among them"):
        plan(EXPERIMENTS["table2"], [3])


def test_run_configs_follow_the_variants_and_the_budget():
    data = load_dataset("mnist-sample")
    settings = ReproduceSettings(epochs=100, seed=3)
    configs = {v.name: run_config(EXPERIMENTS["figure3"], v, 3, data, settings) for v in VARIANTS}
    assert [c.model.kind for c in configs.values()] == ["vae", "vae", "vae", "lvae"]
    assert [c.model.batch_norm for c in configs.values()] == [False, True, True, True]
    assert [c.training.warmup_epochs for c in configs.values()] == [0, 0, 10, 10]
    for c in configs.values():
        assert c.model.latent_dims == (64, 32, 16) and c.model.hidden_dims == (512, 256, 128)
        assert (c.training.epochs, c.training.seed, c.eval_every) == (100, 3, 5)
    assert Budget.of(EXPERIMENTS["table3-norb"], 400).warmup_epochs == 100


def fake_summary(experiment, runs) -> dict:
    return {
        "budget": {
            "epochs": 20,
            "warmup_epochs": 2,
            "paper_epochs": 2000,
            "paper_warmup_epochs": 200,
        },
        "settings": {"iw_samples": 5000, "batch_norm": "recomputed", "seed": 0},
        "dataset": "mnist",
        "data_source": "MNIST IDX files",
        "test_examples": 10000,
        "runs": runs,
    }


def test_the_active_units_table_stands_beside_the_papers():
    runs = [
        {"variant": "LVAE+BN+WU", "layers": 5, "active_units": [40, 20, 7, 3, 1],
         "log_likelihood": -85.123, "elbo": -88.5},
        {"variant": "VAE", "layers": 5, "active_units": [15, 1, 0, 0, 0],
         "log_likelihood": -90.0, "elbo": -92.0},
    ]  # fmt: skip
    table = markdown(EXPERIMENTS["table2"], fake_summary("table2", runs))
    lines = table.splitlines()
    assert "20 of the paper's 2000 epochs" in table and "over 2 of the paper's 200" in table
    assert "K = 5000" in table and "recomputed" in table
    assert "| 5-layer models | VAE | VAE+BN | VAE+BN+WU | LVAE+BN+WU |" in lines
    assert "| active units, layer 1 | 15 (20) | not run (20) | not run (34) | 40 (46) |" in lines
    assert "| active units, total | 16 (21) | not run (37) | not run (61) | 71 (81) |" in lines
    ll = "| test log-likelihood | −90.00 (–) | not run (–) | not run (−82.14) | −85.12 (−81.87) |"
    assert ll in lines


def test_the_log_likelihood_table_has_a_row_per_depth():
    runs = [
        {"variant": "VAE", "layers": 1, "log_likelihood": 3000.04},
        {"variant": "LVAE+BN+WU", "layers": 2, "log_likelihood": 3100.0},
    ]
    table = markdown(EXPERIMENTS["table3-norb"], fake_summary("table3-norb", runs))
    lines = table.splitlines()
    assert "| 64 | 3000.0 (2630.8) | not run (3263.7) | not run (3481.5) | n/a |" in lines
    two = "| 64-32 | not run (2830.8) | not run (3140.1) | not run (3532.9) | 3100.0 (3522.7) |"
    assert two in lines
    assert not any(line.startswith("| 64-32-16 ") for line in lines)


def reproduce(out, *args, capsys=None) -> str:
    argv = ["--experiment", "figure3", *QUICK, "--layers", "1-2"]
    argv += ["--variants", "VAE,LVAE+BN+WU", "--out", str(out), *args]
    assert run_command(main, argv) == 0
    return capsys.readouterr().out if capsys else ""


def test_the_runner_skips_finished_runs_and_resumes_interrupted_ones(tmp_path, capsys):
    out = tmp_path / "reproduce"
    reproduce(out, capsys=capsys)
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
    for name in ("model.keras", "results.json", "evaluation-test.json"):
        (interrupted / name).unlink()
    shutil.rmtree(interrupted / "checkpoints" / "epoch-000002")
    finished = out / "vae_1-layers" / "evaluation-test.json"
    before = finished.stat().st_mtime_ns

    log = reproduce(out, capsys=capsys)
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
    argv = ["--experiment", "figure3", *QUICK, "--layers", "1", "--variants", "VAE"]
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
    ],
)
def test_wrong_arguments_exit_2_with_one_line(argv, message, tmp_path, user_error):
    user_error(main, [*argv, "--out", str(tmp_path / "out")], message)
    assert not (tmp_path / "out").exists()
