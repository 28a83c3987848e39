import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.presets import finetune_config, preset
from tf_lvae.run_config import RunConfig


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"latent_dims": (64, 32), "hidden_dims": (512,)}, "one width per latent layer"),
        ({"latent_dims": ()}, "at least one latent layer"),
        ({"latent_dims": (64, 0)}, "latent_dims must be positive"),
        ({"kind": "ladder"}, "kind must be one of"),
        ({"likelihood": "poisson"}, "likelihood must be one of"),
        ({"activation": "swishy"}, "activation must be one of"),
        ({"top_down": "tied"}, "top_down must be one of"),
        ({"kl_estimator": "exact"}, "kl_estimator must be one of"),
        ({"min_variance": 0.0}, "min_variance"),
        ({"input_shape": (28, -1)}, "input_shape must be positive"),
        ({"batch_norm": "yes"}, "batch_norm must be a bool"),
        ({"batch_norm": False, "latent_batch_norm": True}, "needs batch_norm=True"),
        ({"batch_norm_epsilon": 0.0}, "batch_norm_epsilon must be in"),
        ({"kind": "vae", "kl_estimator": "analytic"}, "is not the ELBO's KL for kind=.vae."),
        ({"architecture": "transformer"}, "architecture must be one of"),
        ({"strides": (2, 2, 2, 2, 2)}, "strides are for architecture='conv'"),
        ({"architecture": "conv", "strides": (2, 2)}, "one factor per latent layer: got 2"),
        ({"architecture": "conv", "strides": (2, 2, 0, 2, 2)}, "strides must be positive"),
        ({"architecture": "conv", "input_shape": (784,)}, "needs images"),
        (
            {"architecture": "conv", "strides": (2,) * 5, "residual_blocks": -1},
            "residual_blocks must be an integer >= 0",
        ),
    ],
)
def test_invalid_model_configs_say_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": -1}, "epochs must be a non-negative integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"iw_samples": 0}, "iw_samples"),
        ({"lr_decay_rate": 1.5}, "lr_decay_rate"),
        ({"clipvalue": -0.9}, "clipvalue must be >= 0"),
        ({"free_bits": -1.0}, "free_bits must be a number of nats >= 0"),
        ({"free_bits": float("nan")}, "free_bits must be a number"),
        ({"free_bits": 0.5, "iw_samples": 10}, "use iw_samples=1 with free_bits"),
        ({"free_bits_group": "unit"}, "free_bits_group must be one of"),
    ],
)
def test_invalid_training_configs_say_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**changes)


def test_presets_follow_the_paper():
    mnist = preset("mnist")
    assert mnist.model.latent_dims == (64, 32, 16, 8, 4)
    assert mnist.model.hidden_dims == (512, 256, 128, 64, 32)
    assert (mnist.model.likelihood, mnist.model.activation) == ("bernoulli", "leaky_relu")
    assert (mnist.training.epochs, mnist.training.warmup_epochs) == (2000, 200)
    assert (mnist.training.learning_rate, mnist.training.batch_size) == (1e-3, 256)
    assert (mnist.training.adam_epsilon, mnist.training.clipnorm) == (1e-4, 4.0)
    assert mnist.training.clipvalue == 0.9  # the authors' code (docs/method.md §5)
    assert mnist.model.batch_norm_on_latents and mnist.model.batch_norm_epsilon == 1e-10
    assert preset("omniglot").training.epochs == 1500
    norb = preset("norb", 2)
    assert norb.model.input_shape == (32, 32)
    assert (norb.model.likelihood, norb.model.activation) == ("gaussian", "tanh")
    assert (norb.training.learning_rate, norb.training.warmup_epochs) == (2e-3, 1000)
    assert norb.model.latent_dims == (64, 32)
    ft = mnist.finetune
    assert (ft.epochs, ft.mc_samples, ft.iw_samples, ft.lr_decay_rate) == (4000, 10, 10, 0.75)
    assert (ft.lr_decay_start, ft.warmup_epochs) == (2000, 0)


def test_preset_rejects_unknown_dataset_and_depth():
    with pytest.raises(ValueError, match="dataset must be one of"):
        preset("cifar")
    with pytest.raises(ValueError, match=r"num_layers must be 1\.\.5"):
        preset("mnist", 6)


def test_configs_round_trip_through_dicts():
    config = preset("norb", 3, "vae").model
    assert ModelConfig.from_dict(config.to_dict()) == config
    training = preset("mnist").finetune
    assert TrainingConfig.from_dict(training.to_dict()) == training
    with pytest.raises(ValueError, match="unknown ModelConfig fields"):
        ModelConfig.from_dict({**config.to_dict(), "latent": 3})


def test_configs_written_before_a_field_existed_load_as_they_were_trained():
    new = preset("mnist", 2).model.to_dict()
    old = {k: v for k, v in new.items() if k not in ("latent_batch_norm", "batch_norm_epsilon")}
    legacy = ModelConfig.from_dict(old)
    assert not legacy.batch_norm_on_latents and legacy.batch_norm_epsilon == 1e-3
    assert ModelConfig.from_dict(new).batch_norm_on_latents
    training = {k: v for k, v in preset("mnist").training.to_dict().items() if k != "clipvalue"}
    assert TrainingConfig.from_dict(training).clipvalue == 0.0


def test_latent_batch_norm_follows_batch_norm_unless_set():
    assert ModelConfig().batch_norm_on_latents
    assert not ModelConfig(batch_norm=False).batch_norm_on_latents
    assert not ModelConfig(latent_batch_norm=False).batch_norm_on_latents
    assert ModelConfig.from_dict(ModelConfig(batch_norm=False).to_dict()) == ModelConfig(
        batch_norm=False
    )


def test_the_conv_preset_halves_the_resolution_at_every_layer():
    mnist = preset("mnist", architecture="conv").model
    assert (mnist.architecture, mnist.data_shape) == ("conv", (28, 28, 1))
    shapes = [mnist.latent_shape(i) for i in range(5)]
    assert shapes == [(14, 14, 8), (7, 7, 8), (4, 4, 8), (2, 2, 8), (1, 1, 8)]
    norb = preset("norb", 3, "vae", "conv")
    assert [norb.model.latent_shape(i) for i in range(3)] == [(16, 16, 8), (8, 8, 8), (4, 4, 8)]
    assert (norb.model.likelihood, norb.model.activation) == ("gaussian", "leaky_relu")
    assert norb.model.hidden_dims == (32, 32, 32) and norb.model.kind == "vae"
    training = preset("omniglot", architecture="conv").training
    assert (training.epochs, training.warmup_epochs, training.learning_rate) == (150, 15, 1e-3)
    colour = ModelConfig(input_shape=(8, 6, 3), architecture="conv", latent_dims=(2,),
                         hidden_dims=(4,), strides=(3,))  # fmt: skip
    assert colour.data_shape == (8, 6, 3) and colour.latent_shape(0) == (3, 2, 2)
    assert ModelConfig().data_shape == (784,) and ModelConfig().latent_shape(1) == (32,)


def test_fine_tuning_trains_the_true_bound():
    base = preset("mnist", architecture="conv").training.replace(free_bits=0.5)
    tuned = finetune_config(base, 20)
    assert (tuned.free_bits, tuned.iw_samples, tuned.epochs) == (0.0, 10, 170)


def test_batch_norm_needs_batches_of_two_or_more():
    one = TrainingConfig(batch_size=1)
    with pytest.raises(ValueError, match="batch norm needs batches of 2 or more examples"):
        RunConfig("mnist", None, ModelConfig(), one)
    RunConfig("mnist", None, ModelConfig(batch_norm=False), one)
