"""The table of dataset facts, and that every dataset is built from it."""

from tf_lvae.data import DATASETS, load_dataset
from tf_lvae.data.datasets import dataset_slug, preset_for


def test_the_bundled_sample_is_built_from_its_facts():
    data, facts = load_dataset("mnist-sample"), DATASETS["mnist-sample"]
    assert data.name == facts.name and data.image_shape == facts.image_shape
    assert (data.likelihood, data.binarize, data.levels) == ("bernoulli", True, 256)
    assert not data.dequantize


def test_gaussian_8_bit_datasets_ask_for_dequantization():
    norb = DATASETS["norb"]
    assert (norb.likelihood, norb.levels, norb.tfds_name) == ("gaussian", 256, "smallnorb")
    x = norb.arrays(*(load_dataset("mnist-sample").x_train[:2],) * 2, None, None, "test")
    assert x.dequantize and x.dequantize_levels == 256


def test_presets_and_slugs():
    assert [preset_for(n) for n in ("norb", "omniglot", "mnist-sample", "npz:x.npz")] == [
        "norb",
        "omniglot",
        "mnist",
        "mnist",
    ]
    assert dataset_slug("npz:data/x.npz") == "npz-data_x.npz"
