"""Reports of parts of a split: which combine, and the one-line refusals of the command."""

import json

import pytest

from tf_lvae.runs.report_parts import combine_reports
from training.combine_evaluations import main


def part(first: int, count: int, log_likelihood: float | None, **changes) -> dict:
    """A minimal report of examples first:first + count of a 100-example split."""
    settings = {"iw_samples": 10, "split": "test", "batch_norm": "recomputed", "seed": 0}
    settings |= {"examples": count, "batch_size": 25, "jit_compile": True, "first_example": first}
    return {
        "run_dir": "/runs/a",
        "data_source": "MNIST IDX files",
        "weights_sha256": "ab12",
        "split_sha256": "cd34",
        "model_file": "model.keras",
        "epochs_trained": 5,
        "dataset": "mnist",
        "split": "test",
        "split_examples": 100,
        "iw_samples": 10,
        "model": {"kind": "lvae"},
        "training": {"seed": 0},
        "examples": count,
        "log_likelihood": log_likelihood,
        "elbo": None if log_likelihood is None else log_likelihood - 4.0,
        "batch_norm_statistics": {"used": "recomputed", "seed": 0, "seconds": 3.0},
        "unit_kl_to_prior": [[0.5, 0.004 * first], [2.0]],
        "unit_kl_to_standard_normal": [[1.0, 1.0], [2.0]],
        "seconds": {"batch_norm": 3.0, "log_likelihood": 10.0, "unit_kl": 1.0, "total": 14.0},
        "settings": settings,
        **changes,
    }


def test_the_means_are_weighted_by_the_examples_of_each_part():
    combined = combine_reports([part(25, 75, -90.0), part(0, 25, -80.0)])
    assert combined["log_likelihood"] == pytest.approx(-87.5)
    assert combined["elbo"] == pytest.approx(-91.5)
    assert combined["unit_kl_to_prior"][0] == pytest.approx([0.5, 0.075])
    assert combined["active_units"]["per_layer"] == [2, 1]
    assert combined["examples"] == 100
    assert combined["settings"]["first_example"] == 0 and combined["settings"]["examples"] is None
    assert combined["seconds"]["total"] == 28.0
    assert [p["examples"] for p in combined["combined_from"]] == ["0:25", "25:100"]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([part(0, 50, -1.0), part(75, 25, -1.0)], "examples 50:75 are missing"),
        ([part(0, 50, -1.0), part(25, 75, -1.0)], "examples 25:50 are scored twice"),
        ([part(0, 100, -1.0), part(25, 25, -1.0)], "examples 25:50 are scored twice"),
        ([part(25, 75, -1.0)], "examples 0:25 are missing"),
        ([part(0, 50, -1.0)], "examples 50:100 are missing"),
        ([part(0, 50, -1.0), part(50, 50, -1.0, iw_samples=5)], "their iw_samples differ"),
        ([part(0, 50, -1.0), part(50, 50, -1.0, epochs_trained=6)], "epochs_trained differ"),
        ([part(0, 50, -1.0), part(50, 50, -1.0, weights_sha256="ef")], "weights_sha256 differ"),
        ([part(0, 50, -1.0), part(50, 50, -1.0, split_sha256="ef")], "split_sha256 differ"),
        (
            [part(0, 50, -1.0), part(50, 50, -1.0, batch_norm_statistics={"used": "moving"})],
            "batch_norm_statistics differ",
        ),
    ],
)
def test_parts_that_are_not_one_whole_evaluation_are_refused(parts, message):
    with pytest.raises(ValueError, match=message):
        combine_reports(parts)


def test_a_seed_batch_size_or_xla_that_differs_is_named():
    other = part(50, 50, -1.0)
    other["settings"] |= {"seed": 1, "batch_size": 50, "jit_compile": False}
    message = r"settings\.batch_size, settings\.jit_compile, settings\.seed differ"
    with pytest.raises(ValueError, match=message):
        combine_reports([part(0, 50, -1.0), other])


def test_the_command_refuses_files_that_are_not_part_reports(tmp_path, user_error):
    (tmp_path / "not.json").write_text("{")
    old = {k: v for k, v in part(0, 50, -1.0).items() if k not in ("split_sha256", "seconds")}
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "nan.json").write_text(json.dumps(part(0, 50, None)))
    user_error(main, [str(tmp_path / "missing.json")], "missing.json does not exist")
    user_error(main, [str(tmp_path / "not.json")], "not.json is not a JSON report")
    user_error(main, [str(tmp_path / "old.json")], "it has no split_sha256, seconds")
    user_error(main, [str(tmp_path / "nan.json")], "nan.json: its log-likelihood and ELBO are not")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(part(0, 50, -1.0)))
    second.write_text(json.dumps(part(75, 25, -1.0)))
    user_error(main, [str(first), str(second)], "examples 50:75 are missing")


def test_the_command_writes_beside_the_first_part_by_default(tmp_path, capsys):
    paths = [tmp_path / "p0.json", tmp_path / "p1.json"]
    for path, report in zip(paths, (part(0, 50, -80.0), part(50, 50, -82.0)), strict=True):
        path.write_text(json.dumps(report))
    assert main([str(p) for p in paths]) == 0
    combined = json.loads((tmp_path / "evaluation-test.json").read_text())
    assert combined["log_likelihood"] == pytest.approx(-81.0)
    assert "log-likelihood -81.00" in capsys.readouterr().out


def test_the_parts_numbers_are_checked_by_type_and_sign(tmp_path, user_error):
    binary = {"model": {"kind": "lvae", "likelihood": "bernoulli"}}
    levels = {"model": {"kind": "lvae", "likelihood": "logistic-mixture"}}
    cases = {
        "positive": (part(0, 50, 3.0, **binary), "log-likelihood 3.0 is positive, impossible"),
        "levels": (part(0, 50, 2.0, **levels), "log-likelihood 2.0 is positive, impossible"),
        "above": (part(0, 50, -85.0, elbo=-80.0), "its ELBO -80.0 is above its IW bound -85.0"),
        "text": (part(0, 50, -85.0, elbo="-89"), "are not numbers (-85.0, '-89')"),
    }
    for name, (report, message) in cases.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(report))
        user_error(main, [str(tmp_path / f"{name}.json")], message)
    user_error(main, [str(tmp_path)], "is a folder; give the report files of the parts")
    integers = [tmp_path / "i0.json", tmp_path / "i1.json"]  # JSON integers are numbers
    integers[0].write_text(json.dumps(part(0, 50, -85, elbo=-89, **binary)))
    integers[1].write_text(json.dumps(part(50, 50, -85, elbo=-89, **binary)))
    assert main([*map(str, integers), "--out", str(tmp_path / "whole.json")]) == 0


def test_no_part_and_no_existing_report_is_written_over_unasked(tmp_path, user_error, capsys):
    paths = [tmp_path / "p0.json", tmp_path / "p1.json"]
    for path, report in zip(paths, (part(0, 50, -80.0), part(50, 50, -82.0)), strict=True):
        path.write_text(json.dumps(report))
    before = paths[1].read_text()
    user_error(main, [*map(str, paths), "--out", str(paths[1])], "p1.json is one of the parts")
    assert paths[1].read_text() == before
    assert main([str(p) for p in paths]) == 0
    whole = tmp_path / "evaluation-test.json"
    whole.write_text("a report made earlier")
    user_error(main, [str(p) for p in paths], "exists already: give --overwrite to replace it")
    assert whole.read_text() == "a report made earlier"
    assert main([*map(str, paths), "--overwrite"]) == 0
    assert json.loads(whole.read_text())["log_likelihood"] == pytest.approx(-81.0)


def test_a_part_written_before_a_model_field_existed_is_of_the_same_model():
    """mixture_components joined ModelConfig later: a part without it has the default."""
    from tf_lvae.runs.report_parts import combine_reports

    before = part(0, 50, -80.0, model={"kind": "lvae"})
    after = part(50, 50, -82.0, model={"kind": "lvae", "mixture_components": 10})
    assert combine_reports([before, after])["log_likelihood"] == pytest.approx(-81.0)
    other = part(50, 50, -82.0, model={"kind": "lvae", "mixture_components": 5})
    with pytest.raises(ValueError, match="their model differ"):
        combine_reports([before, other])
