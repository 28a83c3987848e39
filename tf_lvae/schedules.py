"""Per-epoch schedules: the KL warm-up β (eq. 22) and the learning-rate decay
(docs/method.md §6)."""

from __future__ import annotations

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
