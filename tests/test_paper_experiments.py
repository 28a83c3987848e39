"""The paper's experiments as data: the numbers, the variants, the runs of each experiment."""

import pytest

from tf_lvae.paper.experiments import (
    EXPERIMENTS,
    FINE_TUNINGS,
    PAPER_ACTIVE_TOTALS,
    PAPER_ACTIVE_UNITS,
    PAPER_FINE_TUNED,
    PAPER_NORB,
    PAPER_OMNIGLOT,
    VARIANTS,
    RunKey,
    get_fine_tuning,
    get_variant,
    plan,
)
from tf_lvae.paper.settings import scaled_warmup


def test_the_papers_numbers():
    for name, units in PAPER_ACTIVE_UNITS.items():
        assert sum(units) == PAPER_ACTIVE_TOTALS[name]
    assert PAPER_OMNIGLOT["LVAE+BN+WU"] == {2: -102.12, 3: -101.26, 4: -101.27, 5: -101.59}
    assert PAPER_OMNIGLOT["VAE"][1] == -114.45 and PAPER_NORB["VAE+BN+WU"][2] == 3532.9
    assert EXPERIMENTS["figure3"].paper_log_likelihood["LVAE+BN+WU"] == {5: -81.87}
    assert EXPERIMENTS["table2"].paper_log_likelihood["VAE+BN+WU"] == {5: -82.14}


@pytest.mark.parametrize(
    ("epochs", "paper", "warmup", "expected"),
    [(2000, 2000, 200, 200), (200, 2000, 200, 20), (1000, 4000, 1000, 250), (5, 2000, 200, 1)],
)
def test_the_warmup_scales_with_the_budget(epochs, paper, warmup, expected):
    assert scaled_warmup(epochs, paper, warmup) == expected


def test_the_runs_of_each_experiment():
    table2 = plan(EXPERIMENTS["table2"])
    assert [(v.name, n, f) for v, n, f in table2] == [(v.name, 5, None) for v in VARIANTS]
    figure3 = plan(EXPERIMENTS["figure3"])
    assert len(figure3) == 4 * 5 - 1  # no 1-layer LVAE: it is a VAE
    lvae = get_variant("lvae-bn-wu")
    assert plan(EXPERIMENTS["table3-norb"], [1, 5], [lvae]) == [RunKey(lvae, 5)]
    with pytest.raises(ValueError, match="3 is not among them"):
        plan(EXPERIMENTS["table2"], [3])


def test_table1_fine_tunes_each_trained_run_after_it():
    runs = [(v.name, n, f and f.name) for v, n, f in plan(EXPERIMENTS["table1"])]
    columns = [None, "annealed lr", "MC = 10", "IW = 10", "MC = 10, IW = 10"]
    assert runs == [(v, 5, f) for v in ("VAE+BN+WU", "LVAE+BN+WU") for f in columns]
    assert [(f.mc_samples, f.iw_samples) for f in FINE_TUNINGS] == [
        (1, 1),
        (10, 1),
        (1, 10),
        (10, 10),
    ]
    assert PAPER_FINE_TUNED["LVAE+BN+WU"]["mc10-iw10"] == -81.20
    assert PAPER_FINE_TUNED["VAE+BN+WU"]["iw10"] == -81.41
    with pytest.raises(ValueError, match=r"VAE\+BN is not among them"):
        plan(EXPERIMENTS["table1"], variants=[get_variant("VAE+BN")])
    # A subset of the columns, by slug or name: each follows its trained run, in table order.
    chosen = [get_fine_tuning("MC = 10, IW = 10"), get_fine_tuning("iw10")]
    runs = plan(EXPERIMENTS["table1"], variants=[get_variant("LVAE+BN+WU")], fine_tunings=chosen)
    assert [f and f.slug for _, _, f in runs] == [None, "iw10", "mc10-iw10"]
    with pytest.raises(ValueError, match="unknown fine-tuning 'IW = 5'"):
        get_fine_tuning("IW = 5")
