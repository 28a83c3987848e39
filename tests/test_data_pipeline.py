"""tf.data pipelines: per-epoch permutations, dynamic binarization, resumption, eval order."""

import numpy as np
import pytest

from tf_lvae.data import eval_dataset, steps_per_epoch, train_dataset


def epochs_of(dataset, steps: int) -> list[np.ndarray]:
    """Returns the batches of ``dataset`` grouped per epoch: [epochs] of [steps, B, ...]."""
    batches = np.stack([b.numpy() for b in dataset])
    return list(batches.reshape(-1, steps, *batches.shape[1:]))


def test_epochs_are_permutations_without_remainder():
    n, batch = 50, 8
    x = np.arange(n, dtype=np.float32)[:, None] * np.ones((n, 3), np.float32)
    epochs = epochs_of(train_dataset(x, batch_size=batch, binarize=False, seed=3, epochs=4), 6)
    assert steps_per_epoch(x, batch) == 6 and len(epochs) == 4
    orders = []
    for epoch in epochs:
        ids = epoch[..., 0].reshape(-1)
        assert epoch.shape == (6, batch, 3) and epoch.dtype == np.float32
        assert len(set(ids)) == 48 and set(ids) <= set(range(n))
        orders.append(tuple(ids))
    assert len(set(orders)) == 4  # a fresh permutation every epoch
    assert orders[0] != tuple(range(48))


def test_resume_sees_same_data():
    x = np.random.default_rng(0).random((30, 5, 2)).astype(np.float32)
    kwargs = {"batch_size": 7, "binarize": True, "seed": 11, "epochs": 5}
    full = epochs_of(train_dataset(x, **kwargs), 4)
    resumed = epochs_of(train_dataset(x, initial_epoch=3, **kwargs), 4)
    assert len(resumed) == 2
    np.testing.assert_array_equal(full[3:], resumed)
    other_seed = epochs_of(train_dataset(x, **{**kwargs, "seed": 12}), 4)
    assert not np.array_equal(full[3], other_seed[3])


def test_dynamic_binarization_matches_grey_values():
    """Pixel means over many epochs equal the grey values, with binomial-sized errors."""
    n, grey_pixels, epochs = 40, 20, 500
    rng = np.random.default_rng(0)
    ids = ((np.arange(n)[:, None] >> np.arange(6)) & 1).astype(np.float32)  # 0/1: exact
    grey = rng.uniform(0.05, 0.95, (n, grey_pixels)).astype(np.float32)
    x = np.concatenate([ids, grey], axis=1)
    batches = epochs_of(train_dataset(x, batch_size=8, binarize=True, seed=5, epochs=epochs), 5)
    draws = np.stack(batches).reshape(epochs, n, -1)
    assert set(np.unique(draws)) == {0.0, 1.0}
    assert not np.array_equal(draws[0], draws[1])
    sums = np.zeros_like(grey)
    for epoch in draws:
        example = (epoch[:, :6] * (1 << np.arange(6))).sum(axis=1).astype(int)
        assert sorted(example) == list(range(n))
        sums[example] += epoch[:, 6:]
    z = (sums / epochs - grey) / np.sqrt(grey * (1 - grey) / epochs)
    assert 0.8 < np.mean(z**2) < 1.2  # chi-square / dof: right means and fresh draws
    assert np.abs(z).max() < 5


def test_eval_dataset_keeps_order_and_remainder():
    x = np.arange(23 * 2, dtype=np.float32).reshape(23, 2)
    batches = [b.numpy() for b in eval_dataset(x, batch_size=10)]
    assert [len(b) for b in batches] == [10, 10, 3]
    np.testing.assert_array_equal(np.concatenate(batches), x)


def test_bad_batch_size():
    with pytest.raises(ValueError, match=r"batch_size"):
        train_dataset(np.zeros((5, 2), np.float32), batch_size=6, binarize=False, seed=0, epochs=1)


def test_binarization_fresh_for_every_batch():
    x = np.full((64, 10), 0.5, np.float32)  # identical examples: only the noise differs
    epochs = epochs_of(train_dataset(x, batch_size=8, binarize=True, seed=0, epochs=2), 8)
    batches = np.concatenate(epochs).reshape(16, -1)
    assert len({row.tobytes() for row in batches}) == 16


def test_dequantization_adds_fresh_uniform_noise_to_the_integers_every_epoch():
    n, levels = 24, 256
    rng = np.random.default_rng(0)
    integers = rng.integers(0, levels, (n, 5)).astype(np.float32)
    x = integers / np.float32(levels - 1)
    kwargs = {"batch_size": 8, "binarize": False, "seed": 2, "epochs": 3, "dequantize_levels": 256}
    epochs = epochs_of(train_dataset(x, **kwargs), 3)
    for epoch in epochs:  # each value k / 255 becomes (k + u) / 256, u in [0, 1)
        scaled = epoch.reshape(-1, 5) * levels
        k = np.floor(scaled)
        assert set(map(tuple, k)) <= set(map(tuple, integers))
        assert np.all(scaled - k < 1.0) and len(np.unique(scaled - k)) > 100
    assert not np.array_equal(np.sort(epochs[0], axis=None), np.sort(epochs[1], axis=None))
    resumed = epochs_of(train_dataset(x, initial_epoch=2, **kwargs), 3)
    np.testing.assert_array_equal(epochs[2], resumed[0])
