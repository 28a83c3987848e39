"""Per-epoch schedules: the KL warm-up β (eq. 22) and the learning-rate decay
(docs/method.md §2, §6), and the Keras callbacks that apply them during `fit`."""

from __future__ import annotations

import keras

from tf_lvae.config import TrainingConfig


def warmup_beta(epoch: int, warmup_epochs: int) -> float:
    """β during 0-based `epoch`: epoch / warmup_epochs, reaching 1 after warmup_epochs epochs.

    warmup_epochs == 0 means no warm-up (β = 1 throughout).
    """
    if warmup_epochs <= 0:
        return 1.0
    return min(1.0, epoch / warmup_epochs)


def learning_rate(epoch: int, config: TrainingConfig) -> float:
    """Learning rate during 0-based `epoch`: the initial rate, times lr_decay_rate for every
    lr_decay_epochs epochs completed since lr_decay_start."""
    decays = max(0, epoch - config.lr_decay_start) // config.lr_decay_epochs
    return config.learning_rate * config.lr_decay_rate**decays


class WarmUp(keras.callbacks.Callback):
    """Sets the model's β at the start of every epoch by `schedules.warmup_beta` (eq. 22).

    β lives in a non-trainable variable read by `train_step`, so changing it never
    retraces the compiled step.
    """

    def __init__(self, warmup_epochs: int):
        super().__init__()
        self.warmup_epochs = warmup_epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(warmup_beta(epoch, self.warmup_epochs))


def learning_rate_decay(config: TrainingConfig) -> keras.callbacks.LearningRateScheduler:
    """Keras's scheduler set to `schedules.learning_rate` for this training config."""
    return keras.callbacks.LearningRateScheduler(lambda epoch: learning_rate(epoch, config))
