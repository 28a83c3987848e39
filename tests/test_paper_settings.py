"""The runs of an experiment: the budget and the run configuration of every variant."""

from tf_lvae.data import load_dataset
from tf_lvae.paper.experiments import (
    EXPERIMENTS,
    VARIANTS,
)
from tf_lvae.paper.runner import variant_run_config
from tf_lvae.paper.settings import Budget, ReproduceSettings


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
