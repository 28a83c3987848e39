"""The evaluation report of a run: its settings and its latent numbers. (The whole report
of a trained run is tested through its command, tests/test_training_evaluate.py.)"""

import numpy as np
import pytest

from tf_lvae.evaluation.analysis import UnitKLs
from tf_lvae.evaluation.settings import EvaluationSettings
from tf_lvae.runs.report import latent_statistics


def test_settings_default_to_the_papers_protocol_and_are_validated():
    settings = EvaluationSettings()
    assert (settings.iw_samples, settings.batch_norm, settings.split) == (
        5000,
        "recomputed",
        "test",
    )
    for changes, message in (
        ({"iw_samples": 0}, "K must be >= 1"),
        ({"split": "dev"}, "split must be one of"),
        ({"batch_norm": "none"}, "batch_norm must be one of"),
        ({"examples": 0}, "examples must be >= 1"),
        ({"first_example": 250}, "must be a multiple of the batch size"),
        ({"first_example": -500}, "must be a multiple of the batch size"),
    ):
        with pytest.raises(ValueError, match=message):
            EvaluationSettings(**changes)


def test_only_settings_that_change_the_numbers_decide_if_a_report_is_current():
    recorded = EvaluationSettings(seed=0).to_dict()
    assert EvaluationSettings(seed=0, batch_size=100, jit_compile=False).same_numbers(recorded)
    assert not EvaluationSettings(seed=0, iw_samples=10).same_numbers(recorded)
    assert not EvaluationSettings(seed=0, first_example=500).same_numbers(recorded)
    del recorded["first_example"]  # a report written before parts existed
    assert EvaluationSettings(seed=0).same_numbers(recorded)


def test_a_part_of_the_split_is_named_by_its_range():
    assert EvaluationSettings().part_name == ""
    assert EvaluationSettings(examples=200).part_name == "examples-0-200"
    assert EvaluationSettings(first_example=5000, examples=2500).part_name == ("examples-5000-7500")
    assert EvaluationSettings(first_example=5000).part_name == "examples-5000-end"


def test_latent_statistics_count_active_units_and_sum_the_layers():
    kls = UnitKLs(
        prior=[np.array([0.5, 0.001, 0.02]), np.array([0.0, 3.0])],
        standard_normal=[np.array([1.0, 1.0, 1.0]), np.array([0.0, 3.0])],
    )
    stats = latent_statistics(kls)
    active = stats["active_units"]
    assert (active["threshold"], active["per_layer"], active["total"]) == (0.01, [2, 1], 3)
    assert (active["channels_per_layer"], active["channels_total"]) == ([2, 1], 3)
    assert stats["kl_to_prior"]["per_layer"] == pytest.approx([0.521, 3.0])
    assert stats["kl_to_prior"]["total"] == pytest.approx(3.521)
    assert stats["kl_to_standard_normal"]["per_layer"] == pytest.approx([3.0, 3.0])
    assert stats["unit_kl_to_prior"][1] == [0.0, 3.0]


def test_latent_statistics_count_a_spatial_layer_by_variable_and_by_channel():
    layer = np.zeros((2, 2, 3))  # [H, W, C]: channel 0 active at two positions, 2 nowhere
    layer[0, 0, 0] = layer[1, 1, 0] = 0.5
    layer[0, 1, 1] = 0.2
    stats = latent_statistics(UnitKLs(prior=[layer], standard_normal=[layer]))
    active = stats["active_units"]
    assert (active["per_layer"], active["channels_per_layer"]) == ([3], [2])
