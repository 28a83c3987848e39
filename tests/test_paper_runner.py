"""The resumable runner: fine-tunings train after their run, resume and are skipped when
finished (the trained-run experiments are covered through the command,
tests/test_training_reproduce.py)."""

import dataclasses
import json

import numpy as np
import pytest

from tests.support.small_sample import small_sample
from tests.support.stopped_run import stop_in_last_epoch
from tf_lvae.data import load_dataset
from tf_lvae.paper.experiments import EXPERIMENTS, FineTuning, RunKey, get_variant
from tf_lvae.paper.runner import pixel_scale, run_config, run_experiment
from tf_lvae.paper.settings import Budget, ReproduceSettings
from tf_lvae.paper.tables import markdown
from tf_lvae.runs.run_dir import RunDir

# Table 1 in small: 2-layer models, two cheap fine-tunings of 10 epochs after 2 of training,
# on 512 training images (2 steps an epoch).
SMALL_TABLE1 = dataclasses.replace(
    EXPERIMENTS["table1"],
    layers=(2,),
    fine_tunings=(FineTuning("annealed lr", "lr", 1, 1), FineTuning("IW = 2", "iw2", 1, 2)),
)


def small_settings(folder) -> ReproduceSettings:
    return ReproduceSettings(
        epochs=2,
        fine_tuning_epochs=(10,),
        dataset=small_sample(folder / "small.npz"),
        iw_samples=3,
        eval_iw_samples=2,
        unit_kl_examples=20,
        jit_compile=False,
    )


def test_fine_tunings_continue_the_trained_run_and_resume(tmp_path):
    out = tmp_path / "table1"
    lines: list[str] = []
    lvae = [get_variant("LVAE+BN+WU")]
    settings = small_settings(tmp_path)
    first = run_experiment(SMALL_TABLE1, out, settings, variants=lvae, print_fn=lines.append)
    base = RunDir(out / "lvae-bn-wu_2-layers")
    iw2 = RunDir(base.path / "finetune-iw2")
    assert "[3/3] LVAE+BN+WU, 2-layer, fine-tuned (IW = 2): " + str(iw2.path) in lines
    assert [(r["fine_tuning"], r["epochs_trained"]) for r in first["runs"]] == [
        (None, 2),
        ("lr", 12),
        ("iw2", 12),
    ]
    assert first["fine_tuning_epochs"] == {"lr": 10, "iw2": 10}

    # The fine-tuning starts from the trained run's last checkpoint, at its epoch, at β = 1,
    # with its learning rate falling by 0.75 every epoch (a tenth of its 10).
    rows = iw2.read_metric_rows()
    assert [int(r["epoch"]) for r in rows] == list(range(3, 13))
    assert {float(r["beta"]) for r in rows} == {1.0}
    rates = [float(r["learning_rate"]) for r in rows]
    np.testing.assert_allclose(rates, [1e-3 * 0.75**i for i in range(10)], rtol=1e-6)
    assert all(r["test_log_likelihood"] for r in rows)  # every decay, as Fig. 4 needs
    assert iw2.read_config().training.iw_samples == 2
    table = (out / "table1.md").read_text()
    assert "| IW = 2 (10 of the paper's 2000 more epochs) | not run (–) |" in table

    # Interrupted in its last epoch: the rerun trains that epoch only and skips the rest.
    stop_in_last_epoch(iw2.path, "results.json", "evaluation-test.json")
    lines.clear()
    second = run_experiment(SMALL_TABLE1, out, settings, variants=lvae, print_fn=lines.append)
    assert f"{base.path} is finished; its results are in {base.results_path}" in lines
    assert any(line.endswith(f"epochs 12..12 into {iw2.path}") for line in lines)
    assert second["runs"][:2] == first["runs"][:2]
    report = json.loads((iw2.path / "evaluation-test.json").read_text())
    assert report["epochs_trained"] == 12


def test_the_mnist_experiments_binarize_from_the_authors_pixel_scale_by_default(tmp_path):
    key = RunKey(get_variant("VAE+BN+WU"), 5)
    mnist = load_dataset("mnist-sample")  # 8-bit grey values, binarized
    binary = dataclasses.replace(mnist, levels=None)  # binary images (as OMNIGLOT)
    experiment = EXPERIMENTS["table2"]

    def scales(data, **settings):
        settings = ReproduceSettings(**settings)
        config = run_config(experiment, key, data, settings, tmp_path)
        return config.pixel_scale, pixel_scale(settings, data)

    assert scales(mnist) == (256, 256)
    assert scales(mnist, pixel_scale=255) == (255, 255)
    assert scales(binary) == (255, None)
    with pytest.raises(ValueError, match="leave the scale at 255"):
        scales(binary, pixel_scale=256)
    summary = {"runs": [], "budget": dataclasses.asdict(Budget.of(experiment, 2000))}
    summary.update(settings=dataclasses.asdict(ReproduceSettings()), dataset="mnist")
    summary.update(data_source="IDX", test_examples=10000, pixel_scale=256)
    assert "binarized from byte/256 (the authors' MNIST)" in markdown(experiment, summary)
