"""The logistic mixture end to end: a run on 8-bit MNIST images (levels, not binarized) and
on a folder of colour images, its exact bits/dim, resume, evaluate, and the export."""

import json
import math
import shutil

import numpy as np
import pytest
import tensorflow as tf

from export.saved_model import main as export_main
from tests.test_export_saved_model import run_client
from tf_lvae.cli import run_command
from tf_lvae.runs.checkpoints import load_trained_model
from tf_lvae.runs.run_dir import RunDir
from training import evaluate
from training.fit import main

TINY = ["--likelihood", "logistic-mixture", "--mixture-components", "3", "--no-xla"]
TINY += ["--latent-dims", "6,3", "--hidden-dims", "32,16", "--epochs", "2"]
TINY += ["--final-iw-samples", "4", "--eval-every", "1", "--eval-iw-samples", "2"]
TINY += ["--unit-kl-examples", "20", "--batch-size", "100"]
DIMS = 784


def exact_bits(log_likelihood: float, dims: int) -> float:
    return -log_likelihood / (dims * math.log(2))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("mixture") / "run"
    assert main(["--dataset", "mnist-sample", *TINY, "--out", str(path)]) == 0
    return path


def test_a_run_on_8_bit_images_reports_exact_bits_per_dim_below_8(run):
    config = json.loads((run / "config.json").read_text())["model"]
    assert config["likelihood"] == "logistic-mixture" and config["mixture_components"] == 3
    test = json.loads((run / "results.json").read_text())["test"]
    assert math.isfinite(test["log_likelihood"])
    assert test["bits_per_dim"] == pytest.approx(exact_bits(test["log_likelihood"], DIMS))
    assert test["bits_per_dim"] < 8 and "dequantization_scale" not in test
    columns = RunDir(run).read_metrics()
    bits = columns["test_bits_per_dim"]
    np.testing.assert_allclose(bits, exact_bits(columns["test_log_likelihood"], DIMS))
    assert np.isfinite(bits).all()


def test_the_run_resumes_and_evaluates_with_its_likelihood(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    assert main(["--resume", "--out", str(copy), "--epochs", "3"]) == 0
    assert evaluate.main(["--run", str(copy), "--iw-samples", "3", "--no-xla"]) == 0
    report = json.loads((copy / "evaluation-test.json").read_text())
    assert report["bits_per_dim"] == pytest.approx(exact_bits(report["log_likelihood"], DIMS))


def test_the_export_scores_as_the_model_takes_levels_only_and_samples_levels(run, tmp_path):
    base = tmp_path / "export"
    options = ["--run", str(run), "--out", str(base), "--num-samples", "6", "--score-seed", "2"]
    assert run_command(export_main, options) == 0
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 256, (4, 28, 28)) / 255).astype(np.float32)
    requests = [
        ("score", {"x": x, "num_samples": 6}),
        ("score", {"x": x + 0.5 / 255, "num_samples": 6}),  # between two levels
        ("sample", {"num_samples": 5, "seed": [1, 2], "from_layer": 2, "temperature": 1.0}),
        ("reconstruct", {"x": x}),
    ]
    bodies = [
        {"name": str(i), "export_dir": str(base / "1"), "body": body(signature, inputs)}
        for i, (signature, inputs) in enumerate(requests)
    ]
    out = run_client(bodies, tmp_path / "client")
    model = load_trained_model(RunDir(run), "final").model
    expected = model.score(x, 6, seed=2)
    for key in ("log_likelihood", "elbo"):
        np.testing.assert_allclose(out["0"]["outputs"][key], expected[key].numpy(), rtol=1e-5)
    assert (
        "x must be float32 of shape [batch <= 10000, 28, 28] of levels k / 255"
        in (out["1"]["error"])
    )
    for name in ("2", "3"):
        images = np.array(out[name]["outputs"])
        np.testing.assert_allclose(images * 255, np.round(images * 255), atol=1e-3)
        assert images.min() >= 0 and images.max() <= 1


def body(signature: str, inputs: dict) -> dict:
    inputs = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    return {"signature_name": signature, "inputs": inputs}


def test_a_conv_run_trains_on_a_folder_of_colour_images(tmp_path):
    """8-bit RGB PNGs of a few flat colours: the PixelCNN++ channel dependence, exact
    bits/dim well below the 8 of uniform pixels."""
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    for split, count in (("train", 200), ("test", 20)):
        for i in range(count):
            pixels = palette[rng.integers(0, 4, (8, 8))]
            path = tmp_path / "images" / split / f"{i:02d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            tf.io.write_file(str(path), tf.io.encode_png(pixels))
    run = tmp_path / "run"
    argv = ["--dataset", f"folder:{tmp_path / 'images'}", "--architecture", "conv"]
    argv += ["--likelihood", "logistic-mixture", "--mixture-components", "2"]
    argv += ["--latent-dims", "2,2", "--hidden-dims", "8,8", "--strides", "2,2"]
    argv += ["--residual-blocks", "1", "--epochs", "4", "--batch-size", "20"]
    argv += ["--final-iw-samples", "3", "--unit-kl-examples", "5", "--lr", "0.01"]
    assert main([*argv, "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())["model"]
    assert config["input_shape"] == [8, 8, 3] and config["likelihood"] == "logistic-mixture"
    test = json.loads((run / "results.json").read_text())["test"]
    assert test["bits_per_dim"] == pytest.approx(exact_bits(test["log_likelihood"], 192))
    assert test["bits_per_dim"] < 8


def test_the_mixture_refuses_data_that_are_not_levels(tmp_path, user_error):
    grey = np.random.default_rng(0).uniform(size=(20, 4, 4)).astype(np.float32)
    np.savez(tmp_path / "grey.npz", x_train=grey, x_test=grey)
    mixture = ["--likelihood", "logistic-mixture", "--batch-size", "10"]
    mixture += ["--out", str(tmp_path / "run")]
    user_error(main, ["--dataset", f"npz:{tmp_path / 'grey.npz'}", *mixture], "not 8-bit values")
    on_256 = ["--dataset", "mnist-sample", "--pixel-scale", "256", *mixture]
    user_error(main, on_256, "leave the scale at 255")
    components = ["--dataset", "mnist-sample", "--mixture-components", "3"]
    user_error(main, components, "--mixture-components is for --likelihood logistic-mixture")
