"""python -m training.plots and the figure functions."""

import matplotlib.image
import numpy as np
import pytest

from tf_lvae import figures
from tf_lvae.cli import run_command
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


def white_fraction(path) -> float:
    image = matplotlib.image.imread(path)[..., :3]
    return float(np.mean(np.all(image > 0.99, axis=-1)))


def test_inactive_units_are_white_in_the_kl_heatmap(tmp_path):
    epochs = np.arange(1, 6)
    active = [np.full((5, 20), 0.5), np.full((5, 8), 0.2)]
    half_dead = [a.copy() for a in active]
    half_dead[0][:, 10:] = 0.005  # below the 0.01 nats threshold
    half_dead[1][:, :4] = 0.0
    full = figures.unit_kl_heatmaps(epochs, active, tmp_path / "a.png", 0.01)
    dead = figures.unit_kl_heatmaps(epochs, half_dead, tmp_path / "b.png", 0.01)
    assert white_fraction(dead) > white_fraction(full) + 0.15


def test_images_are_drawn_from_flat_or_channel_last_examples():
    flat = np.random.default_rng(0).uniform(size=(3, 16))
    assert figures.as_images(flat).shape == (3, 4, 4)
    assert figures.as_images(flat.reshape(3, 4, 4, 1)).shape == (3, 4, 4)
    assert figures.as_images(flat * 3 - 1).max() <= 1.0  # Gaussian means are clipped
    with pytest.raises(ValueError, match="cannot draw"):
        figures.as_images(np.zeros((2, 15)))


def test_a_missing_run_exits_2_with_one_line(tmp_path, capsys):
    assert run_command(main, ["--run", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "is not a run directory" in err and len(err.strip().splitlines()) == 1


def test_the_bound_curves_show_the_settled_bounds_not_the_first_epochs(monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.append(fig) or path)
    epoch = np.arange(1, 101, dtype=float)
    elbo = -90.0 - 500.0 * np.exp(-epoch)  # -274 at epoch 1, -90 from epoch 10 on
    test_ll = np.where(epoch % 50 == 0, -85.0, np.nan)
    figures.bound_curves({"epoch": epoch, "elbo": elbo, "test_log_likelihood": test_ll}, "x")
    low, high = drawn[0].axes[0].get_ylim()
    assert -92 < low < -90 and -85 < high < -84
