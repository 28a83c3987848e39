"""python -m training.compare: several runs' test bounds side by side, figure and table."""

import json
import shutil
from pathlib import Path

import matplotlib.image
import pytest

from tf_lvae.runs.run_dir import RunDir
from training.compare import main

PUBLISHED = Path(__file__).parents[1] / "docs/results/mnist-2000-epochs/vae-bn-wu"


def make_run(path: Path, bounds: dict[int, float], epochs: int, final: float | None) -> Path:
    """A run directory with a config.json, `epochs` rows of metrics.csv holding the test IW
    bound at the epochs of `bounds`, and an evaluation report if `final` is given."""
    path.mkdir(parents=True)
    shutil.copy(PUBLISHED / "config.json", path / "config.json")
    rows = [
        {"epoch": str(e), "elbo": str(-100.0 + e), "test_log_likelihood": str(bounds.get(e, ""))}
        for e in range(1, epochs + 1)
    ]
    RunDir(path).write_metric_rows(rows)
    if final is not None:
        report = {"log_likelihood": final, "iw_samples": 5000}
        (path / "evaluation-test.json").write_text(json.dumps(report))
    return path


@pytest.fixture
def runs(tmp_path):
    first = make_run(tmp_path / "a", {2: -90.5, 4: -88.25}, 4, final=-87.125)
    second = make_run(tmp_path / "b", {2: -91.0}, 3, final=None)
    return first, second


def test_the_table_holds_every_recorded_bound_and_the_final_ones(runs, tmp_path, capsys):
    out = tmp_path / "figs" / "figure4.png"
    assert main([*map(str, runs), "--labels", "first,second", "--out", str(out)]) == 0
    table = out.with_suffix(".md").read_text()
    assert capsys.readouterr().out.startswith(table)
    lines = table.splitlines()
    assert lines[0] == "| epoch | first | second |"
    assert lines[2:] == [
        "| 2 | -90.50 | -91.00 |",
        "| 4 | -88.25 | – |",
        "| final | -87.12 (K = 5000, evaluation-test.json) | – |",
    ]
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) > 100


def test_labels_default_to_the_folders_and_outputs_are_not_overwritten(runs, tmp_path, capsys):
    out = tmp_path / "figure4.png"
    assert main([*map(str, runs), "--out", str(out)]) == 0
    assert f"| epoch | {runs[0]} | {runs[1]} |" in capsys.readouterr().out
    with pytest.raises(FileExistsError, match="--overwrite"):
        main([*map(str, runs), "--out", str(out)])
    assert main([*map(str, runs), "--out", str(out), "--overwrite"]) == 0


def test_wrong_arguments_exit_2_with_one_line(runs, tmp_path, user_error):
    a, b = map(str, runs)
    out = str(tmp_path / "f.png")
    user_error(main, [a, b, "--labels", "one", "--out", out], "--labels names 1 runs but 2")
    user_error(main, [a, "--out", str(tmp_path / "f.pdf")], "is not a .png file name")
    user_error(main, [a, str(tmp_path / "none"), "--out", out], "none does not exist")
    assert not (tmp_path / "f.png").exists()
