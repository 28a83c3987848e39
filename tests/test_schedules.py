import keras
import numpy as np
import pytest

from tf_lvae import HierarchicalVAE, ModelConfig
from tf_lvae.config import TrainingConfig
from tf_lvae.schedules import WarmUp, learning_rate, warmup_beta


def test_warmup_rises_linearly_and_reaches_one_after_n_epochs():
    assert [warmup_beta(e, 4) for e in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert warmup_beta(0, 0) == 1.0


def test_learning_rate_decays_in_steps_from_the_start_epoch():
    config = TrainingConfig(
        learning_rate=1e-3, lr_decay_rate=0.75, lr_decay_epochs=200, lr_decay_start=2000
    )
    assert learning_rate(1999, config) == 1e-3
    assert learning_rate(2199, config) == 1e-3
    assert learning_rate(2200, config) == pytest.approx(7.5e-4)
    assert learning_rate(2400, config) == pytest.approx(1e-3 * 0.75**2)
    assert learning_rate(10, TrainingConfig(learning_rate=2e-3)) == 2e-3


def test_warm_up_sets_beta_each_epoch_without_retracing():
    config = ModelConfig(input_shape=(6, 6), latent_dims=(5, 4, 3), hidden_dims=(16, 12, 8))
    model = HierarchicalVAE(config, seed=0)
    traced_in_epochs = []
    step = model.train_step

    class EpochOf(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    epoch_of = EpochOf()

    def counting_step(data):
        traced_in_epochs.append(epoch_of.epoch)  # Python runs only while tracing
        return step(data)

    model.train_step = counting_step
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(
        np.random.default_rng(0).uniform(size=(64, 6, 6)).astype("float32"),
        batch_size=32,
        epochs=4,
        verbose=0,
        shuffle=False,
        callbacks=[epoch_of, WarmUp(2)],
    )
    assert history.history["beta"] == [0.0, 0.5, 1.0, 1.0]
    assert traced_in_epochs and set(traced_in_epochs) == {0}  # β changed, no new trace
    assert {"loss", "elbo", "reconstruction", "kl", "kl_z1", "kl_z3", "beta"} <= set(
        history.history
    )
