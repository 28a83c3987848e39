"""The tables of an experiment beside the paper's numbers, one kind per table."""

from tf_lvae.paper.experiments import (
    EXPERIMENTS,
)
from tf_lvae.paper.tables import markdown


def test_the_active_units_table_stands_beside_the_papers():
    runs = [
        {"variant": "LVAE+BN+WU", "layers": 5, "active_units": [40, 20, 7, 3, 1],
         "log_likelihood": -85.123, "elbo": -88.5},
        {"variant": "VAE", "layers": 5, "active_units": [15, 1, 0, 0, 0],
         "log_likelihood": -90.0, "elbo": -92.0},
    ]  # fmt: skip
    table = markdown(EXPERIMENTS["table2"], fake_summary("table2", runs))
    lines = table.splitlines()
    assert "20 of the paper's 2000 epochs" in table and "over 2 of the paper's 200" in table
    assert "K = 5000" in table and "recomputed" in table
    assert "| 5-layer models | VAE | VAE+BN | VAE+BN+WU | LVAE+BN+WU |" in lines
    assert "| active units, layer 1 | 15 (20) | not run (20) | not run (34) | 40 (46) |" in lines
    assert "| active units, total | 16 (21) | not run (37) | not run (61) | 71 (81) |" in lines
    ll = "| test log-likelihood | −90.00 (–) | not run (–) | not run (−82.14) | −85.12 (−81.87) |"
    assert ll in lines


def test_the_log_likelihood_table_has_a_row_per_depth():
    runs = [
        {"variant": "VAE", "layers": 1, "log_likelihood": 3000.04},
        {"variant": "LVAE+BN+WU", "layers": 2, "log_likelihood": 3100.0},
    ]
    table = markdown(EXPERIMENTS["table3-norb"], fake_summary("table3-norb", runs))
    lines = table.splitlines()
    assert "| 64 | 3000.0 (2630.8) | not run (3263.7) | not run (3481.5) | n/a |" in lines
    two = "| 64-32 | not run (2830.8) | not run (3140.1) | not run (3532.9) | 3100.0 (3522.7) |"
    assert two in lines
    assert not any(line.startswith("| 64-32-16 ") for line in lines)


def test_the_fine_tuning_table_gives_each_rows_budget():
    runs = [
        {"variant": "LVAE+BN+WU", "layers": 5, "fine_tuning": None, "log_likelihood": -82.0},
        {"variant": "LVAE+BN+WU", "layers": 5, "fine_tuning": "iw10", "log_likelihood": -81.5},
        {"variant": "VAE+BN+WU", "layers": 5, "fine_tuning": "lr", "log_likelihood": -81.999},
    ]
    summary = fake_summary("table1", runs)
    summary["fine_tuning_epochs"] = {"lr": 200, "mc10": 40, "iw10": 40, "mc10-iw10": 10}
    lines = markdown(EXPERIMENTS["table1"], summary).splitlines()
    assert "| 5-layer models, fine-tuning | VAE+BN+WU | LVAE+BN+WU |" in lines
    assert "|---|---|---|" in lines
    none = "| none (20 of the paper's 2000 epochs) | not run (−82.14) | −82.00 (−81.87) |"
    assert none in lines
    lr = (
        "| annealed lr (200 of the paper's 2000 more epochs) | −82.00 (−81.97) | not run (−81.54) |"
    )
    assert lr in lines
    assert (
        "| IW = 10 (40 of the paper's 2000 more epochs) | not run (−81.41) | −81.50 (−81.35) |"
        in lines
    )
    both = "| MC = 10, IW = 10 (10 of the paper's 2000 more epochs) | not run (−81.30) |"
    assert f"{both} not run (−81.20) |" in lines
    assert any("the learning rate × 0.75 every tenth" in line for line in lines)
    assert any("Adam's state at the start not recorded by these runs" in line for line in lines)


def test_the_fine_tuning_table_says_what_the_runs_record_of_adams_state():
    def said(*steps):
        runs = [{"variant": "VAE+BN+WU", "layers": 5, "fine_tuning": None, "log_likelihood": -82}]
        runs += [
            {"variant": "VAE+BN+WU", "layers": 5, "fine_tuning": slug, "log_likelihood": -81,
             "started_from": {"run": "base", "epochs": 2000, "optimizer_steps": n}}
            for slug, n in zip(("lr", "mc10"), steps, strict=True)
        ]  # fmt: skip
        summary = fake_summary("table1", runs)
        summary["fine_tuning_epochs"] = {"lr": 200, "mc10": 40, "iw10": 40, "mc10-iw10": 10}
        return markdown(EXPERIMENTS["table1"], summary)

    assert "with a new Adam optimizer" in said(0, 0) and "Adam's state" not in said(0, 0)
    assert "with Adam's state (its moments and step count)" in said(468000, 468000)
    assert "continued in some runs, new in others" in said(0, 468000)


def test_dequantized_models_report_bits_per_dim_beside_the_log_likelihood():
    runs = [
        {"variant": "VAE", "layers": 1, "log_likelihood": 3000.0, "bits_per_dim": 5.1234,
         "dequantization_scale": 256},
    ]  # fmt: skip
    lines = markdown(EXPERIMENTS["table3-norb"], fake_summary("table3-norb", runs)).splitlines()
    assert "| 64: bits/dim | 5.123 (–) | not run (–) | not run (–) | n/a |" in lines
    note = next(line for line in lines if line.startswith("- bits/dim:"))
    assert "(−LL + D log 256) / (D log 2)" in note and "upper bound" in note


def fake_summary(experiment, runs) -> dict:
    return {
        "budget": {
            "epochs": 20,
            "warmup_epochs": 2,
            "paper_epochs": 2000,
            "paper_warmup_epochs": 200,
        },
        "settings": {"iw_samples": 5000, "batch_norm": "recomputed", "seed": 0},
        "dataset": "mnist",
        "data_source": "MNIST IDX files",
        "test_examples": 10000,
        "runs": runs,
    }
