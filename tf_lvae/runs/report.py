"""Evaluating a trained run, the same way every time.

`evaluate_run` loads a run's model (a copy: the saved files are never changed), sets its
batch-norm statistics, and returns every number of the evaluation with the settings
that produced it as one JSON-ready dict: the test log-likelihood by the IW bound with
K samples and the ELBO, the active units (Table 2), the per-unit KL to the prior and
to N(0, I), and their layer totals (Fig. 6a).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from tf_lvae.data import DatasetArrays
from tf_lvae.data.splits import load_run_data, split_images
from tf_lvae.evaluation.analysis import (
    ACTIVE_THRESHOLD,
    UnitKLs,
    active_units,
    channel_kls,
    layer_totals,
    mean_unit_kls,
)
from tf_lvae.evaluation.batch_norm import set_batch_norm_statistics
from tf_lvae.evaluation.scoring import Evaluator, log_likelihood_report, test_numbers
from tf_lvae.evaluation.settings import EvaluationSettings
from tf_lvae.runs.checkpoints import load_trained_model, model_file_sha256
from tf_lvae.runs.run_dir import RunDir


def latent_statistics(kls: UnitKLs) -> dict[str, Any]:
    """The report's latent numbers from every unit's mean KLs: active units (Table 2), per
    latent variable and per channel (a channel's KL summed over its positions; an MLP's
    channels are its units), the KL per layer to the prior and to N(0, I) (Fig. 6a), and
    the KL of every unit."""
    active = active_units(kls.prior)
    channels = active_units([channel_kls(kl) for kl in kls.prior])
    return {
        "active_units": {
            "threshold": ACTIVE_THRESHOLD,
            "unit": "latent variable (a convolutional layer's: one channel at one position)",
            "per_layer": active,
            "total": sum(active),
            "channels_per_layer": channels,
            "channels_total": sum(channels),
        },
        "kl_to_prior": {
            "per_layer": layer_totals(kls.prior),
            "total": sum(layer_totals(kls.prior)),
        },
        "kl_to_standard_normal": {"per_layer": layer_totals(kls.standard_normal)},
        "unit_kl_to_prior": [kl.tolist() for kl in kls.prior],
        "unit_kl_to_standard_normal": [kl.tolist() for kl in kls.standard_normal],
    }


def evaluate_run(
    run_dir: str | Path,
    settings: EvaluationSettings = EvaluationSettings(),
    data: DatasetArrays | None = None,
    verbose: int = 1,
    print_fn: Callable = print,
    data_dir: str | None = None,
) -> dict[str, Any]:
    """Evaluates the trained model of a run: model.keras (its latest checkpoint while it is
    unfinished, or with settings.batch_norm = "moving"), on a copy: the saved files are
    never changed. `data_dir`: where the run's data are read from instead of its config's.

    Returns the report (see the evaluate command's documentation for its layout).
    `data` may be passed to skip loading the run's dataset. Raises FileNotFoundError
    when the folder is not a run or holds no trained model.
    """
    start = time.perf_counter()
    run = RunDir(run_dir)
    config = run.read_config()
    if settings.pixel_scale is not None:
        config = dataclasses.replace(config, pixel_scale=settings.pixel_scale)
    if data_dir is not None:
        config = dataclasses.replace(config, data_dir=data_dir)
    trained = load_trained_model(run, "latest" if settings.batch_norm == "moving" else "final")
    model_file = str(trained.path.relative_to(run.path))
    data = load_run_data(config, data)
    seed = config.training.seed if settings.seed is None else settings.seed
    settings = dataclasses.replace(settings, seed=seed)
    x = split_images(data, settings.split, config.validation, config.training.seed)
    split_examples, split_sha256 = len(x), digest([x])
    x = examples_of(x, settings)
    print_fn(
        f"evaluating {run.path} ({config.model.kind}, {config.model.num_layers}-layer, "
        f"{model_file} after {trained.epochs} epochs) on {examples_text(len(x), settings)}"
    )
    model = trained.model
    batch_norm = set_batch_norm_statistics(model, data, config, settings.batch_norm, seed, print_fn)
    print_fn(f"log-likelihood: IW bound with K = {settings.iw_samples}")
    evaluator = Evaluator(model, settings.batch_size, settings.jit_compile)
    first_batch = settings.first_example // settings.batch_size
    bound = log_likelihood_report(
        evaluator, x, settings.iw_samples, seed, verbose, data.bits_scale, first_batch
    )
    kl_start = time.perf_counter()
    kls = mean_unit_kls(model, x, settings.batch_size, seed, first_batch=first_batch)
    latent = latent_statistics(kls)
    report = {
        "run_dir": str(run.path.resolve()),
        "model_file": model_file,
        "model_sha256": model_file_sha256(trained.path),
        "epochs_trained": trained.epochs,
        "dataset": data.name,
        "data_source": data.source,
        "pixel_scale": config.pixel_scale,
        "split": settings.split,
        "examples": len(x),
        "split_examples": split_examples,
        "split_sha256": split_sha256,
        "weights_sha256": digest(v.numpy() for v in model.variables),
        "log_likelihood": bound["log_likelihood"],
        "elbo": bound["elbo"],
        **{k: bound[k] for k in ("bits_per_dim", "dequantization_scale") if k in bound},
        "iw_samples": settings.iw_samples,
        "batch_norm_statistics": batch_norm,
        **latent,
        "seconds": {
            "batch_norm": batch_norm.get("seconds", 0.0),
            "log_likelihood": bound["seconds"],
            "unit_kl": round(time.perf_counter() - kl_start, 1),
            "total": round(time.perf_counter() - start, 1),
        },
        "settings": settings.to_dict(),
        "model": config.model.to_dict(),
        "training": config.training.to_dict(),
    }
    print_fn(summary(report))
    return report


def examples_of(x: np.ndarray, settings: EvaluationSettings) -> np.ndarray:
    """The examples of the split x [N, ...] that `settings` evaluate. Raises ValueError
    (a one-line error from the command) when they reach past its end."""
    start = settings.first_example
    end = len(x) if settings.examples is None else start + settings.examples
    if start >= len(x):
        raise ValueError(
            f"the first example ({start}) must be below the {len(x):,} {settings.split} examples"
        )
    if end > len(x):
        raise ValueError(
            f"examples {start}:{end} reach past the {len(x):,} {settings.split} examples; "
            f"the last part is {start}:{len(x)}"
        )
    return x[start:end]


def digest(arrays: Iterable[np.ndarray]) -> str:
    """sha256 of the arrays' bytes, in order: the same weights or images give the same
    digest on every machine."""
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()


def examples_text(count: int, settings: EvaluationSettings) -> str:
    """'N SPLIT examples', with their range when they are a part of the split."""
    text = f"{count:,} {settings.split} examples"
    if settings.first_example:
        text += f" ({settings.first_example}:{settings.first_example + count})"
    return text


def summary(report: dict[str, Any]) -> str:
    """A few lines with the main numbers of an `evaluate_run` report."""
    active = report["active_units"]
    return "\n".join(
        [
            f"{test_numbers(report)} "
            f"(K = {report['iw_samples']}, {report['examples']:,} {report['split']} examples, "
            f"batch-norm statistics: {report['batch_norm_statistics']['used']}, "
            f"{report['seconds']['total']} s)",
            f"active units per layer {active['per_layer']}, total {active['total']}"
            + (
                f"; active channels per layer {active['channels_per_layer']}, total "
                f"{active['channels_total']}"
                if active["channels_per_layer"] != active["per_layer"]
                else ""
            ),
            "KL to the prior per layer "
            + " ".join(f"{v:.2f}" for v in report["kl_to_prior"]["per_layer"]),
            "KL to N(0, I) per layer "
            + " ".join(f"{v:.2f}" for v in report["kl_to_standard_normal"]["per_layer"]),
        ]
    )
