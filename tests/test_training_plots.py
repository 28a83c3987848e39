"""python -m training.plots: every figure of a trained run, and what it skips."""

import shutil

import matplotlib.image
import numpy as np
import pytest

from training import fit
from training.plots import main

TINY = ["--dataset", "mnist-sample", "--latent-dims", "8,4", "--hidden-dims", "32,16"]
TINY += ["--epochs", "2", "--no-xla", "--final-iw-samples", "2", "--eval-every", "1"]
TINY += ["--eval-iw-samples", "2", "--unit-kl-examples", "50"]
FIGURES = [
    "prior_samples.png",
    "reconstructions.png",
    "layer_samples.png",
    "layer_kl.png",
    "pca.png",
    "unit_kl.png",
    "bounds.png",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "run"
    assert fit.main([*TINY, "--out", str(path)]) == 0
    return path


def test_every_figure_is_written(run, capsys):
    assert main(["--run", str(run), "--examples", "300", "--samples", "20"]) == 0
    out = capsys.readouterr().out
    for name in FIGURES:
        image = matplotlib.image.imread(run / "plots" / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 50, name
        assert f"plots/{name}" in out


def test_figures_that_need_a_record_are_skipped_without_it(run, tmp_path, capsys):
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("config.json", "model.keras"):
        (copy / name).write_bytes((run / name).read_bytes())
    assert main(["--run", str(copy), "--examples", "100", "--samples", "10"]) == 0
    out = capsys.readouterr().out
    assert "skipping Fig. 5" in out and "skipping Fig. 4" in out
    assert not (copy / "plots" / "unit_kl.png").exists()
    assert (copy / "plots" / "pca.png").exists()


def test_a_missing_or_empty_run_exits_2_with_one_line(tmp_path, user_error):
    user_error(main, ["--run", str(tmp_path / "nothing")], "nothing does not exist")
    (tmp_path / "empty").mkdir()
    user_error(main, ["--run", str(tmp_path / "empty")], "empty holds no config.json")


def test_a_damaged_record_skips_its_figure_with_a_warning(run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "plots", ignore_errors=True)
    (copy / "unit_kl.npz").write_bytes(np.random.default_rng(0).bytes(3000))  # random bytes
    metrics = (copy / "metrics.csv").read_bytes()
    (copy / "metrics.csv").write_bytes(metrics[: len(metrics) // 2] + b"\nnot,a,row\n")
    assert main(["--run", str(copy), "--examples", "100", "--samples", "10"]) == 0
    captured = capsys.readouterr()
    assert "warning: skipping Fig. 5" in captured.err and "warning: skipping Fig. 4" in captured.err
    assert "allow_pickle" not in captured.err and "Traceback" not in captured.err
    assert not (copy / "plots" / "unit_kl.png").exists()
    assert (copy / "plots" / "pca.png").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--examples", "1"], "--examples: must be >= 2"), (["--samples", "100000"], "<= 1,000")],
)
def test_figures_ask_for_a_bounded_amount_of_work(argv, message, run, user_error):
    user_error(main, ["--run", str(run), *argv], message)
