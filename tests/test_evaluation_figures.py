"""The figure functions (tf_lvae/evaluation/figures.py)."""

import io

import matplotlib.image
import numpy as np
import pytest

from tf_lvae.evaluation import figures


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


def test_grey_and_colour_examples_tile_into_one_image_or_a_png_in_memory():
    colour = np.random.default_rng(0).uniform(size=(5, 4, 3, 3))
    tiled = figures.mosaic(colour, columns=2)  # 3 rows, 2 columns, white lines between
    assert tiled.shape == (3 * 5 - 1, 2 * 4 - 1, 3)
    np.testing.assert_allclose(tiled[:4, :3], colour[0], rtol=1e-6)
    assert np.all(tiled[4] == 1.0) and np.all(tiled[-4:, 4:] == 1.0)  # no 6th image
    assert figures.mosaic(colour[..., 0], columns=5).shape == (4, 5 * 4 - 1)
    png = figures.image_grid(colour, io.BytesIO(), "colour")
    assert png.getvalue().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="grey or RGB"):
        figures.as_images(np.zeros((2, 3, 3, 2)))


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The figures the figure functions draw, kept open instead of being saved."""
    figures_drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: figures_drawn.append(fig) or path)
    return figures_drawn


def test_the_bound_curves_show_the_settled_bounds_not_the_first_epochs(drawn):
    epoch = np.arange(1, 101, dtype=float)
    elbo = -90.0 - 500.0 * np.exp(-epoch)  # -274 at epoch 1, -90 from epoch 10 on
    test_ll = np.where(epoch % 50 == 0, -85.0, np.nan)
    figures.bound_curves({"epoch": epoch, "elbo": elbo, "test_log_likelihood": test_ll}, "x")
    low, high = drawn[0].axes[0].get_ylim()
    assert -92 < low < -90 and -85 < high < -84


@pytest.mark.filterwarnings("error")  # matplotlib warns of a marker given twice
def test_the_bound_curves_of_a_one_epoch_run_show_its_points(drawn):
    one = {"epoch": np.array([1.0]), "elbo": np.array([-150.0]), "test_elbo": np.array([-149.0])}
    one["test_log_likelihood"] = np.array([-148.0])
    figures.bound_curves(one, "x")
    lines = drawn[0].axes[0].get_lines()
    assert [line.get_ydata().tolist() for line in lines] == [[-150.0], [-149.0], [-148.0]]
    assert all(line.get_marker() not in ("None", "", None) for line in lines)


def test_the_depth_curves_give_both_budgets(drawn):
    ours = {"VAE": {1: -86.5, 2: -85.3}, "LVAE+BN+WU": {2: -84.0, 5: -83.0}}
    figures.depth_curves(ours, {"LVAE+BN+WU": {5: -81.87}}, "x", epochs=200, paper_epochs=2000)
    legend = [text.get_text() for text in drawn[0].axes[0].get_legend().get_texts()]
    assert legend == [
        "VAE, 200 epochs",
        "LVAE+BN+WU, 200 epochs",
        "LVAE+BN+WU, the paper, 2000 epochs",
    ]


def white_fraction(path) -> float:
    image = matplotlib.image.imread(path)[..., :3]
    return float(np.mean(np.all(image > 0.99, axis=-1)))
