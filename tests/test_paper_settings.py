"""The runs of an experiment: the budget and the run configuration of every variant."""

from pathlib import Path

import pytest

from tf_lvae.data import load_dataset
from tf_lvae.paper.experiments import EXPERIMENTS, FINE_TUNINGS, VARIANTS, RunKey, get_variant
from tf_lvae.paper.runner import run_config, variant_run_config
from tf_lvae.paper.settings import Budget, ReproduceSettings, fine_tuning_epochs, run_path


def test_run_configs_follow_the_variants_and_the_budget():
    data = load_dataset("mnist-sample")
    settings = ReproduceSettings(epochs=100, seed=3)
    configs = {
        v.name: variant_run_config(EXPERIMENTS["figure3"], v, 3, data, settings) for v in VARIANTS
    }
    assert [c.model.kind for c in configs.values()] == ["vae", "vae", "vae", "lvae"]
    assert [c.model.batch_norm for c in configs.values()] == [False, True, True, True]
    assert [c.training.warmup_epochs for c in configs.values()] == [0, 0, 10, 10]
    for c in configs.values():
        assert c.model.latent_dims == (64, 32, 16) and c.model.hidden_dims == (512, 256, 128)
        assert (c.training.epochs, c.training.seed, c.eval_every) == (100, 3, 5)
    assert Budget.of(EXPERIMENTS["table3-norb"], 400).warmup_epochs == 100


def test_a_fine_tuning_continues_its_trained_run_with_the_papers_schedule(tmp_path):
    data = load_dataset("mnist-sample")
    table1 = EXPERIMENTS["table1"]
    settings = ReproduceSettings(epochs=100, fine_tuning_epochs=(200, 40, 40, 10))
    lvae = get_variant("LVAE+BN+WU")
    base = run_config(table1, RunKey(lvae, 5), data, settings, tmp_path)
    assert base == variant_run_config(EXPERIMENTS["table2"], lvae, 5, data, settings)
    both = RunKey(lvae, 5, FINE_TUNINGS[3])
    tuned = run_config(table1, both, data, settings, tmp_path)
    t = tuned.training
    assert (t.epochs, t.mc_samples, t.iw_samples, t.warmup_epochs) == (110, 10, 10, 0)
    assert (t.lr_decay_rate, t.lr_decay_epochs, t.lr_decay_start) == (0.75, 1, 100)
    assert t.learning_rate == base.training.learning_rate and tuned.model == base.model
    assert tuned.eval_every == 1
    assert Path(tuned.init_from) == (tmp_path / "lvae-bn-wu_5-layers").resolve()
    assert run_path(tmp_path, both) == tmp_path / "lvae-bn-wu_5-layers" / "finetune-mc10-iw10"
    lr = run_config(table1, RunKey(lvae, 5, FINE_TUNINGS[0]), data, settings, tmp_path)
    assert (lr.training.epochs, lr.training.lr_decay_epochs, lr.eval_every) == (300, 20, 20)
    assert (lr.training.mc_samples, lr.training.iw_samples) == (1, 1)


@pytest.mark.parametrize(
    ("experiment", "epochs", "expected"),
    [
        ("table1", None, {"lr": 2000, "mc10": 2000, "iw10": 2000, "mc10-iw10": 2000}),
        ("table1", (30,), {"lr": 30, "mc10": 30, "iw10": 30, "mc10-iw10": 30}),
        ("figure3", None, {}),
        ("table1", (10, 20), "give one number of epochs for all or one for each, got 2"),
        ("table1", (200, 40, 45, 10), "'IW = 10' needs a positive multiple of 10 epochs"),
        ("table2", (10,), "table2 has no fine-tuning"),
    ],
)
def test_the_fine_tuning_budgets(experiment, epochs, expected):
    settings = ReproduceSettings(fine_tuning_epochs=epochs)
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected):
            fine_tuning_epochs(EXPERIMENTS[experiment], settings)
    else:
        assert fine_tuning_epochs(EXPERIMENTS[experiment], settings) == expected
