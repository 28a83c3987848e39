import pytest

from tf_lvae.config import TrainingConfig
from tf_lvae.schedules import learning_rate, warmup_beta


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
