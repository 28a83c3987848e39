"""Evaluation reports of parts of a split, combined into the report of the whole split.

A part (`EvaluationSettings.first_example`, `examples`) starts on a batch boundary and
draws, for each of its examples, the samples the whole split's evaluation draws for it
(`data.pipeline.seeded_batches`). Its means are means over its examples, so the example-
weighted means of the parts are the whole evaluation's numbers, up to float rounding: the
IW bound, the ELBO, every unit's KL, and from those the active units and the layer KLs.

Light: the checks run before TensorFlow starts (the latent statistics import it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tf_lvae.config import ModelConfig

# What every part must share: the weights and images evaluated, and how (the settings apart
# from the range; XLA's random numbers differ from the kernels' without it).
_SHARED = ("weights_sha256", "split_sha256", "split_examples", "model_file", "epochs_trained")
_SHARED += ("dataset", "split", "iw_samples", "model", "training")
# Shared too, where recorded: reports written before them have neither.
_SHARED_WHEN_RECORDED = ("model_sha256", "pixel_scale")
_RANGE_SETTINGS = ("first_example", "examples")
_MEANS = ("log_likelihood", "elbo", "bits_per_dim")
_UNIT_KEYS = ("unit_kl_to_prior", "unit_kl_to_standard_normal")
REQUIRED = (*_SHARED, "examples", "log_likelihood", "elbo", *_UNIT_KEYS, "seconds", "settings")
REQUIRED += ("batch_norm_statistics", "run_dir", "data_source")


def part_range(report: dict[str, Any]) -> tuple[int, int]:
    """(first, end) of the examples a report scored, end exclusive."""
    first = report["settings"].get("first_example", 0)
    return first, first + report["examples"]


def combine_reports(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The report of the whole split from reports of its parts (any order), laid out as
    `runs.report.evaluate_run`'s, with `combined_from` listing the parts.

    Raises ValueError naming what differs when the parts are not of one evaluation, or
    which examples are missing or scored twice.
    """
    if not parts:
        raise ValueError("give the reports of the parts to combine")
    parts = sorted(parts, key=part_range)
    _check_one_evaluation(parts)
    _check_coverage(parts)
    weights = np.array([part["examples"] for part in parts], np.float64)
    weights /= weights.sum()
    first = parts[0]
    means = {
        key: float(sum(w * part[key] for w, part in zip(weights, parts, strict=True)))
        for key in _MEANS
        if key in first
    }
    from tf_lvae.evaluation.analysis import UnitKLs  # TensorFlow starts here
    from tf_lvae.runs.report import latent_statistics

    kls = UnitKLs(*(_unit_means(parts, weights, key) for key in _UNIT_KEYS))
    seconds = {key: round(sum(p["seconds"][key] for p in parts), 1) for key in first["seconds"]}
    batch_norm = {**first["batch_norm_statistics"], "seconds": seconds["batch_norm"]}
    return {
        **first,
        "examples": first["split_examples"],
        **means,
        "batch_norm_statistics": batch_norm,
        **latent_statistics(kls),
        "seconds": seconds,
        "settings": {**first["settings"], "first_example": 0, "examples": None},
        "combined_from": [_part_record(part) for part in parts],
    }


def _part_record(part: dict[str, Any]) -> dict[str, Any]:
    """Where and from what a part was evaluated, for the combined report."""
    return {
        "examples": "{}:{}".format(*part_range(part)),
        "run_dir": part["run_dir"],
        "data_source": part["data_source"],
        "seconds": part["seconds"]["total"],
    }


def _unit_means(parts: list[dict[str, Any]], weights: np.ndarray, key: str) -> list[np.ndarray]:
    """Every unit's example-weighted mean KL over the parts, one array per layer."""
    layers = zip(*(part[key] for part in parts), strict=True)
    return [
        sum(w * np.asarray(kl, np.float64) for w, kl in zip(weights, layer, strict=True))
        for layer in layers
    ]


def _check_one_evaluation(parts: list[dict[str, Any]]) -> None:
    """Raises ValueError naming what differs when a part is not of the first's evaluation."""
    first = parts[0]
    for part in parts[1:]:
        shared = (*_SHARED, *_SHARED_WHEN_RECORDED)
        differing = [key for key in shared if _shared(part, key) != _shared(first, key)]
        differing += [
            f"settings.{key}"
            for key in first["settings"].keys() | part["settings"].keys()
            if key not in _RANGE_SETTINGS
            and part["settings"].get(key) != first["settings"].get(key)
        ]
        if _batch_norm(part) != _batch_norm(first):
            differing.append("batch_norm_statistics")
        if differing:
            raise ValueError(
                f"the parts {part_range(first)} and {part_range(part)} are not of one "
                f"evaluation: their {', '.join(sorted(differing))} differ"
            )


def _shared(report: dict[str, Any], key: str) -> Any:
    """A report's value of a shared key as compared: its model's config with the fields it
    was written without at their defaults (a part evaluated before a field existed, e.g.
    mixture_components, is of the same model)."""
    value = report.get(key)
    if key == "model" and isinstance(value, dict):
        return {**ModelConfig().to_dict(), **value}
    return value


def _batch_norm(report: dict[str, Any]) -> dict[str, Any]:
    """The batch-norm record without its time and wording (a part may have recomputed the
    statistics that another found stored with the model)."""
    record = report["batch_norm_statistics"]
    return {k: v for k, v in record.items() if k not in ("seconds", "description")}


def _check_coverage(parts: list[dict[str, Any]]) -> None:
    """Raises ValueError naming the examples missing or scored twice by the parts, sorted
    by their first example."""
    end = 0
    for part in parts:
        first, last = part_range(part)
        if first < end:
            raise ValueError(f"examples {first}:{min(end, last)} are scored twice")
        if first > end:
            raise ValueError(f"examples {end}:{first} are missing")
        end = last
    total = parts[0]["split_examples"]
    if end != total:
        raise ValueError(f"examples {end}:{total} are missing")
