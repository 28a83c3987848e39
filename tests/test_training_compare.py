"""python -m training.compare: several runs' test bounds side by side, figure and table."""

import json
from pathlib import Path

import matplotlib.image
import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir
from training.compare import main


def make_run(path: Path, epochs: int, bounds: dict[int, float] | None = None) -> Path:
    """A run directory with a config.json and `epochs` rows of metrics.csv, holding the
    test IW bound at the epochs of `bounds` (no such column when None)."""
    run = RunDir(path)
    path.mkdir(parents=True)
    model = ModelConfig(input_shape=(28, 28), latent_dims=(4, 2), hidden_dims=(8, 8))
    run.write_config(
        RunConfig(dataset="mnist-sample", data_dir=None, model=model, training=TrainingConfig())
    )
    rows = [{"epoch": str(e), "elbo": str(-100.0 + e)} for e in range(1, epochs + 1)]
    if bounds is not None:
        for row in rows:
            row["test_log_likelihood"] = str(bounds.get(int(row["epoch"]), ""))
    run.write_metric_rows(rows)
    return path


def write_report(path: Path, log_likelihood: float, epochs: int) -> None:
    report = {"log_likelihood": log_likelihood, "iw_samples": 5000, "epochs_trained": epochs}
    (path / "evaluation-test.json").write_text(json.dumps(report))


@pytest.fixture
def runs(tmp_path):
    first = make_run(tmp_path / "a", 4, {2: -90.5, 4: -88.25})
    write_report(first, -87.125, 4)
    second = make_run(tmp_path / "b", 3, None)  # no test bound recorded; results.json's final
    results = {"epochs": 3, "test": {"log_likelihood": -91.0, "iw_samples": 100}}
    (second / "results.json").write_text(json.dumps(results))
    third = make_run(tmp_path / "c", 3, {2: -91.0})  # unfinished: no final bound
    return first, second, third


def test_the_table_holds_every_recorded_bound_and_the_final_ones(runs, tmp_path, capsys):
    out = tmp_path / "figs" / "figure4.png"
    argv = [*map(str, runs), "--labels", "first,second,a|b", "--out", str(out)]
    assert main(argv) == 0
    table = out.with_suffix(".md").read_text()
    assert capsys.readouterr().out.startswith(table)
    lines = table.splitlines()
    assert lines[0] == r"| epoch | first | second | a\|b |"
    assert lines[2:] == [
        "| 2 | -90.50 | – | -91.00 |",
        "| 4 | -88.25 | – | – |",
        "| final | -87.12 (K = 5000, epoch 4, evaluation-test.json) "
        "| -91.00 (K = 100, epoch 3, results.json) | – |",
    ]
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) > 100


def test_labels_default_to_the_folders_and_outputs_are_not_overwritten(runs, tmp_path, capsys):
    out = tmp_path / "figure4.png"
    assert main([*map(str, runs[:2]), "--out", str(out)]) == 0
    assert f"| epoch | {runs[0]} | {runs[1]} |" in capsys.readouterr().out
    with pytest.raises(FileExistsError, match="--overwrite"):
        main([*map(str, runs[:2]), "--out", str(out)])
    assert main([*map(str, runs[:2]), "--out", str(out), "--overwrite"]) == 0


def test_wrong_arguments_exit_2_with_one_line(runs, tmp_path, user_error):
    a, b, _ = map(str, runs)
    out = str(tmp_path / "f.png")
    user_error(main, [a, b, "--labels", "one", "--out", out], "--labels names 1 runs but 2")
    user_error(main, [a, b, "--labels", "x,x", "--out", out], "--labels names x twice")
    user_error(main, [a, a, "--out", out], f"the runs name {a} twice")
    user_error(main, [a, b, "--labels", "x,", "--out", out], "holds an empty label")
    user_error(main, [a, "--out", str(tmp_path / "f.pdf")], "is not a .png file name")
    user_error(main, [a, str(tmp_path / "none"), "--out", out], "none does not exist")
    assert not (tmp_path / "f.png").exists()


def test_damaged_records_exit_2_naming_them(runs, tmp_path, user_error):
    a, b, c = runs
    out = str(tmp_path / "f.png")
    (a / "evaluation-test.json").write_text("{")
    user_error(main, [str(a), "--out", out], f"the final test bound of {a} cannot be read")
    (b / "results.json").write_text(json.dumps({"epochs": 3}))
    user_error(main, [str(b), "--out", out], "evaluate the run again")
    RunDir(c).metrics_path.write_text("epoch,elbo\n")
    user_error(main, [str(c), "--out", out], "metrics.csv holds no epoch")
    assert not (tmp_path / "f.png").exists()
