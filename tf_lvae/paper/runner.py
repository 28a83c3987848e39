"""The resumable reproduction runner: trains, evaluates and tabulates an experiment.

Every run lives in its own run directory (OUT/VARIANT_L-layers) and is trained by
`runs.train.train_run`, so a finished run is skipped and an interrupted one resumes from
its latest checkpoint. Every run is then evaluated identically by
`runs.report.evaluate_run` (kept in RUN/evaluation-test.json and reused while its
settings match), and the results are written as a markdown table beside the paper's.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tf_lvae.config import AUTHORS_PIXEL_SCALE, PIXEL_SCALES
from tf_lvae.constants import PAPER_NUM_LAYERS
from tf_lvae.data import DatasetArrays, load_dataset
from tf_lvae.data.splits import binarizes_bytes
from tf_lvae.evaluation import figures
from tf_lvae.evaluation.settings import EvaluationSettings
from tf_lvae.paper.experiments import Experiment, FineTuning, RunKey, Variant, plan
from tf_lvae.paper.settings import (
    Budget,
    ReproduceSettings,
    fine_tuned_run_config,
    fine_tuning_epochs,
    run_path,
)
from tf_lvae.paper.tables import markdown
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.configure import configure_run
from tf_lvae.runs.report import evaluate_run
from tf_lvae.runs.run_dir import RunDir, write_atomic, write_json
from tf_lvae.runs.train import train_run


def _differences(old: RunConfig, new: RunConfig) -> list[str]:
    """Settings that differ between two run configs, ignoring speed-only ones, data_dir and
    init_from (a fine-tuning's base is the folder it lives in, wherever OUT has moved)."""
    ignore = {"data_dir", "jit_compile", "steps_per_execution", "init_from"}
    flat_old, flat_new = _flatten(old.to_dict()), _flatten(new.to_dict())
    return [
        f"{key}: {flat_old.get(key)} -> {flat_new.get(key)}"
        for key in sorted(set(flat_old) | set(flat_new))
        if key.split(".")[-1] not in ignore and flat_old.get(key) != flat_new.get(key)
    ]


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def pixel_scale(settings: ReproduceSettings, data: DatasetArrays) -> int | None:
    """What the experiment's runs divide the data's 8-bit grey values by before binarizing
    them: the settings' scale, else the authors' 256; None where the data are not 8-bit
    values binarized."""
    if not binarizes_bytes(data, data.likelihood):
        return None
    return settings.pixel_scale or AUTHORS_PIXEL_SCALE


def variant_run_config(
    experiment: Experiment,
    variant: Variant,
    layers: int,
    data: DatasetArrays,
    settings: ReproduceSettings,
) -> RunConfig:
    """The run of `variant` with `layers` latent layers: the paper's preset for the
    experiment's dataset, the variant's batch norm and warm-up, the budget's epochs, the
    authors' pixel scale where it applies unless the settings name one."""
    budget = Budget.of(experiment, settings.epochs)
    return configure_run(
        settings.dataset or experiment.dataset,
        data,
        kind=variant.kind,
        num_layers=layers,
        preset_name=experiment.dataset,
        model={"batch_norm": variant.batch_norm},
        training={
            "epochs": budget.epochs,
            "warmup_epochs": budget.warmup_epochs if variant.warmup else 0,
            "seed": settings.seed,
            "jit_compile": settings.jit_compile,
        },
        data_dir=settings.data_dir,
        eval_every=settings.eval_every or max(1, math.ceil(budget.epochs / 20)),
        eval_iw_samples=settings.eval_iw_samples,
        final_iw_samples=settings.eval_iw_samples,
        unit_kl_examples=settings.unit_kl_examples,
        # a scale given for data that are not binarized 8-bit values: refused there
        pixel_scale=settings.pixel_scale or pixel_scale(settings, data) or PIXEL_SCALES[0],
    )


def run_config(
    experiment: Experiment,
    key: RunKey,
    data: DatasetArrays,
    settings: ReproduceSettings,
    out: Path,
) -> RunConfig:
    """The configuration of the run `key` of the experiment under `out`."""
    base = variant_run_config(experiment, key.variant, key.layers, data, settings)
    if key.fine_tuning is None:
        return base
    epochs = fine_tuning_epochs(experiment, settings)[key.fine_tuning.slug]
    return fine_tuned_run_config(
        base, run_path(out, key._replace(fine_tuning=None)), key.fine_tuning, epochs
    )


def check_run(path: Path, config: RunConfig) -> RunDir:
    """The run directory at `path`, which must be new or hold the same settings as
    `config` (so that a rerun resumes it instead of mixing budgets). Writes nothing."""
    run = RunDir(path)
    changed = _differences(run.read_config(), config) if run.exists() else []
    if changed:
        raise ValueError(
            f"{run.path} holds a run with other settings ({'; '.join(changed)}); "
            "rerun with the settings it was started with, or choose another --out"
        )
    return run


def saved_report(
    run: RunDir, config: RunConfig, settings: EvaluationSettings
) -> dict[str, Any] | None:
    """The run's saved evaluation report if it holds `config` and the report was made
    with `settings` after the last epoch, else None."""
    path = run.evaluation_path(settings.split)
    if not (run.exists() and path.is_file()) or _differences(run.read_config(), config):
        return None
    report = json.loads(path.read_text())
    current = report["epochs_trained"] == config.training.epochs
    return report if current and settings.same_numbers(report["settings"]) else None


def evaluate_once(
    run: RunDir,
    config: RunConfig,
    settings: EvaluationSettings,
    data: DatasetArrays,
    print_fn: Callable = print,
) -> dict[str, Any]:
    """The run's evaluation report: the saved one when up to date (see `saved_report`),
    else a new one, saved in RUN/evaluation-test.json."""
    report = saved_report(run, config, settings)
    if report is not None:
        print_fn(f"{run.evaluation_path(settings.split)} is up to date")
        return report
    report = evaluate_run(run.path, settings, data=data, print_fn=print_fn)
    write_json(run.evaluation_path(settings.split), report)
    return report


def run_experiment(
    experiment: Experiment,
    out: str | Path,
    settings: ReproduceSettings | None = None,
    layers: Sequence[int] | None = None,
    variants: Sequence[Variant] | None = None,
    print_fn: Callable = print,
    fine_tunings: Sequence[FineTuning] | None = None,
) -> dict[str, Any]:
    """Trains (or resumes, or skips when finished) and evaluates the runs of the
    experiment under `out` (all, or the given depths, variants and fine-tunings), then writes
    OUT/EXPERIMENT.md (the table beside the paper's numbers), OUT/EXPERIMENT.json (every
    number) and, for log-likelihood experiments, OUT/EXPERIMENT.png (Fig. 3), with every
    run of the experiment under `out` that is evaluated with these settings (so that
    subsets run one after the other fill one table). Returns the JSON's content."""
    settings = settings or ReproduceSettings()
    out = Path(out)
    selected = plan(experiment, layers, variants, fine_tunings)
    fine_tuning_epochs(experiment, settings)  # checked before anything runs
    data = load_dataset(settings.dataset or experiment.dataset, settings.data_dir)
    evaluation = EvaluationSettings(
        iw_samples=settings.iw_samples,
        batch_norm=settings.batch_norm,
        seed=settings.seed,
        jit_compile=settings.jit_compile,
    )
    configs = {key: run_config(experiment, key, data, settings, out) for key in plan(experiment)}
    runs = {key: check_run(run_path(out, key), configs[key]) for key in selected}
    for i, (key, run) in enumerate(runs.items()):
        print_fn(f"[{i + 1}/{len(runs)}] {describe(key)}: {run.path}")
        with run.lock():
            check_run(run.path, configs[key])  # again: another process may have made it
            if not run.exists():
                run.write_config(configs[key])
            train_run(run, data=data, print_fn=print_fn)
            evaluate_once(run, configs[key], evaluation, data, print_fn)
    results = []
    for key, config in configs.items():
        run = RunDir(run_path(out, key))
        report = saved_report(run, config, evaluation)
        if report is not None:
            results.append(_result(experiment, key, run, report))
    summary = {
        "experiment": experiment.name,
        "title": experiment.title,
        "budget": dataclasses.asdict(Budget.of(experiment, settings.epochs)),
        "fine_tuning_epochs": fine_tuning_epochs(experiment, settings),
        "settings": dataclasses.asdict(settings),
        "dataset": data.name,
        "data_source": data.source,
        "test_examples": len(data.x_test),
        "pixel_scale": pixel_scale(settings, data),
        "runs": results,
    }
    write_json(out / f"{experiment.name}.json", summary)
    table = markdown(experiment, summary)
    write_atomic(out / f"{experiment.name}.md", lambda tmp: tmp.write_text(table))
    print_fn(table)
    if experiment.table == "log_likelihood":
        budget = summary["budget"]
        figures.depth_curves(
            _by_depth(results),
            experiment.paper_log_likelihood,
            out / f"{experiment.name}.png",
            experiment.title,
            epochs=budget["epochs"],
            paper_epochs=budget["paper_epochs"],
        )
    print_fn(f"-> {out / experiment.name}.md, .json")
    return summary


def describe(key: RunKey) -> str:
    """A run in words: "VAE+BN+WU, 5-layer" or "VAE+BN+WU, 5-layer, fine-tuned (IW = 10)"."""
    tuned = f", fine-tuned ({key.fine_tuning.name})" if key.fine_tuning else ""
    return f"{key.variant.name}, {key.layers}-layer{tuned}"


def _result(
    experiment: Experiment, key: RunKey, run: RunDir, report: dict[str, Any]
) -> dict[str, Any]:
    variant, layers, fine_tuning = key
    paper_units = experiment.paper_active_units.get(variant.name)
    paper_ll = (
        experiment.paper_fine_tuned.get(variant.name, {}).get(fine_tuning.slug)
        if fine_tuning
        else experiment.paper_log_likelihood.get(variant.name, {}).get(layers)
    )
    return {
        "variant": variant.name,
        "layers": layers,
        "fine_tuning": fine_tuning.slug if fine_tuning else None,
        "epochs_trained": report["epochs_trained"],
        "run_dir": str(run.path),
        "log_likelihood": report["log_likelihood"],
        "elbo": report["elbo"],
        "bits_per_dim": report.get("bits_per_dim"),
        "dequantization_scale": report.get("dequantization_scale"),
        "active_units": report["active_units"]["per_layer"],
        "kl_to_prior": report["kl_to_prior"]["per_layer"],
        "kl_to_standard_normal": report["kl_to_standard_normal"]["per_layer"],
        "iw_samples": report["iw_samples"],
        "examples": report["examples"],
        "batch_norm_statistics": report["batch_norm_statistics"]["used"],
        "started_from": run.read_start(),
        "paper_log_likelihood": paper_ll,
        "paper_active_units": (
            list(paper_units) if paper_units and layers == PAPER_NUM_LAYERS else None
        ),
    }


def _by_depth(results: list[dict[str, Any]]) -> dict[str, dict[int, float]]:
    """variant -> {layers: test log-likelihood}."""
    table: dict[str, dict[int, float]] = {}
    for r in results:
        if r["fine_tuning"] is None:
            table.setdefault(r["variant"], {})[r["layers"]] = r["log_likelihood"]
    return table
