"""Keras callbacks of the training loop: the KL warm-up and the learning-rate decay."""

from __future__ import annotations

import keras

from tf_lvae.config import TrainingConfig
from tf_lvae.schedules import learning_rate, warmup_beta


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
