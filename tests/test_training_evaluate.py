"""python -m training.evaluate on a tiny trained run: the JSON report and the errors."""

import hashlib
import itertools
import json
import shutil

import keras
import numpy as np
import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.evaluation.batch_norm import batch_norm_layers
from tf_lvae.evaluation.settings import EvaluationSettings
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.checkpoints import load_run_model
from tf_lvae.runs.run_dir import RunDir
from training import fit
from training.combine_evaluations import main as combine
from training.evaluate import main

TINY = ["--dataset", "mnist-sample", "--latent-dims", "8,4", "--hidden-dims", "32,16"]
TINY += ["--epochs", "1", "--no-xla", "--final-iw-samples", "2", "--eval-every", "0"]
TINY += ["--unit-kl-examples", "50"]
REPORTS = itertools.count()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("evaluate") / "run"
    assert fit.main([*TINY, "--out", str(path)]) == 0
    return path


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evaluate(run, *args: str) -> dict:
    out = run / f"report-{next(REPORTS)}.json"
    assert main(["--run", str(run), "--no-xla", "--out", str(out), *args]) == 0
    return json.loads(out.read_text())


def test_the_report_holds_every_number_and_its_settings(run):
    saved = digest(run / "model.keras")
    report = evaluate(run, "--iw-samples", "20", "--bn-stats", "recomputed")
    assert report["examples"] == 1000 and report["split"] == "test"
    assert report["iw_samples"] == 20
    assert report["elbo"] < report["log_likelihood"] < 0
    assert report["batch_norm_statistics"]["used"] == "recomputed"
    assert report["batch_norm_statistics"]["training_examples"] == 5000
    assert report["settings"] == {
        "iw_samples": 20,
        "split": "test",
        "batch_norm": "recomputed",
        "seed": 0,
        "examples": None,
        "batch_size": 500,
        "jit_compile": False,
        "first_example": 0,
        "pixel_scale": None,
    }
    assert report["split_examples"] == 1000
    assert report["model_sha256"] == saved and report["pixel_scale"] == 255
    assert report["model"]["latent_dims"] == [8, 4] and report["epochs_trained"] == 1
    assert report["model_file"] == "model.keras"
    units = [np.array(u) for u in report["unit_kl_to_prior"]]
    assert [len(u) for u in units] == [8, 4]
    active = report["active_units"]
    assert active["per_layer"] == [int(np.sum(u > 0.01)) for u in units]
    assert active["total"] == sum(active["per_layer"]) and active["threshold"] == 0.01
    np.testing.assert_allclose(report["kl_to_prior"]["per_layer"], [u.sum() for u in units])
    standard = [np.array(u) for u in report["unit_kl_to_standard_normal"]]
    np.testing.assert_allclose(
        report["kl_to_standard_normal"]["per_layer"], [u.sum() for u in standard]
    )
    # p(z_L) = N(0, I): the Monte Carlo KL to the prior estimates the closed form to N(0, I)
    np.testing.assert_allclose(standard[-1], units[-1], atol=0.05)
    assert set(report["seconds"]) == {"batch_norm", "log_likelihood", "unit_kl", "total"}
    assert digest(run / "model.keras") == saved  # the run's model is never changed


def test_the_report_says_which_batch_norm_statistics_were_used(run):
    moving = evaluate(run, "--iw-samples", "1", "--examples", "300", "--bn-stats", "moving")
    recomputed = evaluate(run, "--iw-samples", "1", "--examples", "300")  # the default
    assert moving["batch_norm_statistics"]["used"] == "moving"
    assert recomputed["batch_norm_statistics"]["used"] == "recomputed"
    assert moving["model_file"].startswith("checkpoints/epoch-")  # the moving averages
    assert moving["model_sha256"] == digest(run / moving["model_file"] / "variables.npz")
    assert moving["examples"] == recomputed["examples"] == 300
    assert moving["log_likelihood"] != recomputed["log_likelihood"]
    assert moving["elbo"] == pytest.approx(moving["log_likelihood"], rel=1e-6)  # K = 1
    reloaded = load_run_model(run)
    original = keras.saving.load_model(run / "model.keras")
    for a, b in zip(batch_norm_layers(reloaded), batch_norm_layers(original), strict=True):
        np.testing.assert_array_equal(a.moving_mean.numpy(), b.moving_mean.numpy())


def test_the_train_split_and_the_default_output_path_of_a_part(run, capsys):
    assert main(["--run", str(run), "--no-xla", "--iw-samples", "2", "--split", "train",
                 "--examples", "200"]) == 0  # fmt: skip
    report = json.loads((run / "evaluation-train-examples-0-200.json").read_text())
    assert report["split"] == "train" and report["examples"] == 200
    assert report["split_examples"] == 5000
    out = capsys.readouterr().out
    assert "log-likelihood" in out and "active units per layer" in out


def test_parts_of_the_split_combine_into_the_whole_evaluation(run, tmp_path, capsys):
    common = ["--iw-samples", "20", "--batch-size", "250"]
    whole = evaluate(run, *common)
    for part in ("250:1000", "0:250"):
        assert main(["--run", str(run), "--no-xla", *common, "--examples", part]) == 0
    assert "after 1 epochs) on 750 test examples (250:1000)" in capsys.readouterr().out
    parts = [run / f"evaluation-test-examples-{r}.json" for r in ("0-250", "250-1000")]
    assert [json.loads(p.read_text())["examples"] for p in parts] == [250, 750]
    out = tmp_path / "combined.json"
    assert combine([*map(str, parts), "--out", str(out)]) == 0
    combined = json.loads(out.read_text())
    for key in ("log_likelihood", "elbo"):
        assert combined[key] == pytest.approx(whole[key], rel=1e-6)
    for key in ("unit_kl_to_prior", "unit_kl_to_standard_normal"):
        for layer, reference in zip(combined[key], whole[key], strict=True):
            np.testing.assert_allclose(layer, reference, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        combined["kl_to_prior"]["per_layer"], whole["kl_to_prior"]["per_layer"], rtol=1e-5
    )
    assert combined["active_units"] == whole["active_units"]
    assert combined["settings"] == whole["settings"] and combined["examples"] == 1000
    assert [p["examples"] for p in combined["combined_from"]] == ["0:250", "250:1000"]
    assert combined["weights_sha256"] == whole["weights_sha256"]
    assert {k for k in whole if k != "seconds"} <= set(combined)
    whole_settings = EvaluationSettings(**{**whole["settings"], "batch_size": 500})
    assert whole_settings.same_numbers(combined["settings"])  # the runner would reuse it


def test_an_unfinished_run_is_evaluated_from_its_latest_checkpoint(run, tmp_path):
    unfinished = tmp_path / "unfinished"
    finished = ("model.keras", "results.json", "evaluation-*.json", "report-*.json")
    shutil.copytree(run, unfinished, ignore=shutil.ignore_patterns(*finished))
    report = evaluate(unfinished, "--iw-samples", "1", "--examples", "50")
    assert report["model_file"] == "checkpoints/epoch-000001" and report["epochs_trained"] == 1


def untrained_run(path) -> RunDir:
    run = RunDir(path)
    model = ModelConfig(latent_dims=(4,), hidden_dims=(8,))
    run.write_config(RunConfig("mnist-sample", None, model, TrainingConfig(epochs=1)))
    return run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--run", "{tmp}/missing"], "missing does not exist: give a run directory"),
        (["--run", "{untrained}"], "has no trained model yet"),
        (["--run", "{run}", "--iw-samples", "0"], "--iw-samples: must be >= 1"),
        (["--run", "{run}", "--split", "validation"], "held out no validation set"),
        (["--run", "{run}", "--split", "dev"], "invalid choice: 'dev'"),
        (["--iw-samples", "5"], "the following arguments are required: --run"),
        (["--run", "{run}", "--out", "{tmp}"], "is a folder; give a file name to --out"),
        (["--run", "{run}", "--out", "/proc/tf_lvae/r.json"], "cannot write to /proc/tf_lvae"),
        (["--run", "{run}", "--examples", "300:500"], "must be a multiple of the batch size"),
        (["--run", "{run}", "--examples", "500:300"], "END must be greater than START"),
        (["--run", "{run}", "--examples", "a:300"], "expected an integer, got 'a'"),
        (["--run", "{run}", "--examples", "500:1500"], "reach past the 1,000 test examples"),
        (["--run", "{run}", "--examples", "1000:"], "(1000) must be below the 1,000 test"),
    ],
)
def test_wrong_input_exits_2_with_one_line(argv, message, run, tmp_path, user_error):
    untrained = untrained_run(tmp_path / "untrained")
    paths = {"tmp": tmp_path, "untrained": untrained.path, "run": run}
    user_error(main, [a.format(**paths) for a in argv], message)


def test_a_truncated_final_model_is_named_and_resume_rebuilds_it(run, tmp_path, user_error):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    model = copy / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    user_error(main, ["--run", str(copy), "--iw-samples", "1"], "model.keras is damaged")
    assert fit.main(["--resume", "--out", str(copy)]) == 0
    assert RunDir(copy).model_file_intact()
    assert evaluate(copy, "--iw-samples", "1", "--examples", "50")["examples"] == 50


def test_another_pixel_scale_is_its_own_report_with_its_own_batch_norm_pass(run, capsys):
    common = ["--run", str(run), "--no-xla", "--iw-samples", "2", "--examples", "500"]
    assert main([*common, "--pixel-scale", "255"]) == 0  # the run's own: its usual report
    own = json.loads((run / "evaluation-test-examples-0-500.json").read_text())
    assert main([*common, "--pixel-scale", "256"]) == 0
    authors = json.loads((run / "evaluation-test-pixel-scale-256-examples-0-500.json").read_text())
    assert "(pixel-scale-256-examples-0-500)" in capsys.readouterr().out
    assert (own["pixel_scale"], authors["pixel_scale"]) == (255, 256)
    assert authors["settings"]["pixel_scale"] == 256 and own["settings"]["pixel_scale"] is None
    assert own["batch_norm_statistics"]["description"].endswith("stored with the model")
    recomputed = authors["batch_norm_statistics"]
    assert recomputed["pixel_scale"] == 256 and recomputed["seconds"] > 0  # not the stored
    assert "binarized afresh from byte/256" in recomputed["description"]
    assert authors["split_sha256"] != own["split_sha256"]  # other test images
    assert authors["model_sha256"] == own["model_sha256"]


def test_a_relative_data_dir_that_is_gone_says_so_and_data_dir_overrides_it(
    run, tmp_path, user_error
):
    moved = tmp_path / "moved"
    shutil.copytree(run, moved, ignore=shutil.ignore_patterns("evaluation-*.json", "report-*"))
    config = json.loads((moved / "config.json").read_text())
    (moved / "config.json").write_text(json.dumps({**config, "data_dir": "gone/mnist"}))
    argv = ["--run", str(moved), "--no-xla", "--iw-samples", "1", "--examples", "100"]
    user_error(main, argv, "the run's data_dir 'gone/mnist' (config.json) is relative")
    user_error(main, argv, "or give the data's folder with --data-dir")
    assert main([*argv, "--data-dir", str(tmp_path)]) == 0


def test_an_existing_report_is_replaced_only_when_asked(run, tmp_path, user_error):
    out = tmp_path / "report.json"
    argv = ["--run", str(run), "--no-xla", "--iw-samples", "1", "--examples", "100"]
    out.write_text("half an hour of K = 5000")
    user_error(main, [*argv, "--out", str(out)], "exists already: give --overwrite to replace")
    assert out.read_text() == "half an hour of K = 5000"
    assert main([*argv, "--out", str(out), "--overwrite"]) == 0
    assert json.loads(out.read_text())["examples"] == 100
