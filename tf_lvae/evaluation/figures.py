"""The paper's figures drawn with matplotlib (Agg backend, PNG files), one function each.

Every function takes numbers (computed by analysis.py, or recorded by a run) and a
path, writes the figure there and returns the path. Nothing here computes statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

DPI = 120


def _save(fig: plt.Figure, path: str | Path | BinaryIO) -> Path | BinaryIO:
    """Writes the figure as PNG to `path`, a file name or a binary file object (matplotlib's
    savefig takes either), and returns it."""
    if isinstance(path, str | Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def as_images(x: np.ndarray) -> np.ndarray:
    """Examples [N, H, W], [N, H, W, 1], flat square [N, H*W] or colour [N, H, W, 3] as
    images [N, H, W] (grey) or [N, H, W, 3], clipped to [0, 1]."""
    x = np.asarray(x, np.float32)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot draw examples of shape {x.shape[1:]} as images")
        x = x.reshape(-1, side, side)
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3)):
        raise ValueError(f"cannot draw examples of shape {x.shape[1:]} as grey or RGB images")
    return np.clip(x, 0.0, 1.0)


def mosaic(images: np.ndarray, columns: int) -> np.ndarray:
    """Examples (see `as_images`) as one image, `columns` per row with white lines between:
    [rows * (H + 1) - 1, columns * (W + 1) - 1] (grey) or [..., 3] (colour)."""
    images = as_images(images)
    n, h, w = images.shape[:3]
    rows = math.ceil(n / columns)
    tiled = np.ones((rows * (h + 1) - 1, columns * (w + 1) - 1, *images.shape[3:]), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        tiled[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = image
    return tiled


def paired_rows(originals: np.ndarray, reconstructed: np.ndarray, columns: int) -> list:
    """Rows of `columns` examples, each followed by the row of their reconstructions."""
    rows = []
    for start in range(0, len(originals), columns):
        rows += [originals[start : start + columns], reconstructed[start : start + columns]]
    return rows


def image_grid(images: np.ndarray, path: str | Path, title: str, columns: int = 10) -> Path:
    """Examples (see `as_images`) drawn as a grid, `columns` per row."""
    tiled = mosaic(images, columns)
    fig, ax = plt.subplots(figsize=(columns * 0.6, tiled.shape[0] / tiled.shape[1] * columns * 0.6))
    ax.imshow(tiled, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    return _save(fig, path)


def reconstructions(
    originals: np.ndarray, reconstructed: np.ndarray, path: str | Path, columns: int = 10
) -> Path:
    """Pairs of rows: examples above, the means of p(x | z) at their posterior below."""
    rows = paired_rows(originals, reconstructed, columns)
    fig, axes = plt.subplots(len(rows), 1, figsize=(columns * 0.6, len(rows) * 0.65))
    for i, (ax, row) in enumerate(zip(np.atleast_1d(axes), rows, strict=True)):
        ax.imshow(mosaic(row, columns), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel("data" if i % 2 == 0 else "recon.", rotation=0, ha="right", va="center")
    fig.suptitle("Test examples and their reconstructions")
    return _save(fig, path)


def layer_samples(samples: Sequence[np.ndarray], path: str | Path) -> Path:
    """Fig. 6b: row i holds samples made by injecting z* ~ N(0, I) at layer i (bottom row
    z_1) and running the generative model down from there. samples[i]: [N, ...]."""
    count = len(samples)
    fig, axes = plt.subplots(count, 1, figsize=(len(samples[0]) * 0.6, count * 0.75))
    for i, ax in enumerate(np.atleast_1d(axes)):
        layer = count - i
        ax.imshow(
            mosaic(samples[layer - 1], len(samples[layer - 1])),
            cmap="gray",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"z{layer}", rotation=0, ha="right", va="center")
    fig.suptitle("Samples with z* ~ N(0, I) injected at layer i")
    return _save(fig, path)


def unit_kl_heatmaps(
    epochs: np.ndarray,
    unit_kls: Sequence[np.ndarray],
    path: str | Path,
    threshold: float,
    row: str = "unit",
) -> Path:
    """Fig. 5: log KL(q || p) of every unit (rows, sorted by the last epoch's KL) against
    the epoch, one panel per layer; units at or below `threshold` nats are white.

    epochs: [E]; unit_kls[i]: [E, rows of layer i + 1], each a `row` (a unit, or a channel:
    `analysis.heatmap_rows`).
    """
    logs = [np.log10(np.maximum(kl, np.finfo(np.float32).tiny)) for kl in unit_kls]
    finite = np.concatenate([log[kl > threshold] for log, kl in zip(logs, unit_kls, strict=True)])
    low, high = (finite.min(), finite.max()) if finite.size else (np.log10(threshold), 0.0)
    heights = [kl.shape[1] for kl in unit_kls]
    fig, axes = plt.subplots(
        len(unit_kls),
        1,
        figsize=(7, 1.5 + 0.04 * sum(heights) + 0.4 * len(unit_kls)),
        gridspec_kw={"height_ratios": [max(h, 4) for h in heights]},
        sharex=True,
        squeeze=False,
        layout="constrained",
    )
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    edges = np.concatenate([[0], epochs]) if len(epochs) else np.array([0, 1])
    for i, (ax, kl, log) in enumerate(zip(axes[:, 0], unit_kls, logs, strict=True)):
        order = np.argsort(-kl[-1])
        ranked_kl, ranked_log = kl[:, order].T, log[:, order].T
        shown = np.ma.masked_where(ranked_kl <= threshold, ranked_log)
        mesh = ax.pcolormesh(
            edges, np.arange(kl.shape[1] + 1), shown, cmap=cmap, vmin=low, vmax=high
        )
        ax.invert_yaxis()
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(f"z{i + 1} {row}")
    axes[-1, 0].set_xlabel("epoch")
    fig.colorbar(mesh, ax=axes[:, 0], label="log10 KL(q || p) (nats)")
    fig.suptitle(f"Per-{row} KL, {row}s sorted by their last KL (white: KL ≤ {threshold} nats)")
    return _save(fig, path)


def layer_kl_bars(
    kl_to_prior: Sequence[float], kl_to_standard_normal: Sequence[float], path: str | Path
) -> Path:
    """Fig. 6a: per layer, KL(q(z_i | .) || p(z_i | .)) and KL(q(z_i | .) || N(0, I))."""
    layers = np.arange(1, len(kl_to_prior) + 1)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(layers - 0.2, kl_to_prior, 0.4, label="KL(q || p)")
    ax.bar(layers + 0.2, kl_to_standard_normal, 0.4, label="KL(q || N(0, I))")
    ax.set_xticks(layers, [f"z{i}" for i in layers])
    ax.set_yscale("log")  # the layers' KLs span several orders of magnitude
    ax.set_xlabel("latent layer")
    ax.set_ylabel("KL (nats)")
    ax.legend()
    return _save(fig, path)


def pca_scatter(
    points: Sequence[np.ndarray],
    explained: Sequence[np.ndarray],
    labels: np.ndarray | None,
    path: str | Path,
) -> Path:
    """Fig. 7: the first two principal components of samples of q(z_i | .), one panel per
    layer, coloured by class when labels [N] are given. points[i]: [N, 2 or 1]."""
    fig, axes = plt.subplots(
        1, len(points), figsize=(3.4 * len(points), 3.6), squeeze=False, layout="constrained"
    )
    for i, (ax, p, ratio) in enumerate(zip(axes[0], points, explained, strict=True)):
        y = p[:, 1] if p.shape[1] > 1 else np.zeros(len(p))
        colours = (
            {"c": labels, "cmap": "tab10", "vmin": -0.5, "vmax": 9.5} if labels is not None else {}
        )
        scatter = ax.scatter(p[:, 0], y, s=3, alpha=0.6, **colours)
        ax.set_title(f"z{i + 1}")
        ax.set_xlabel(f"PC1 ({100 * ratio[0]:.0f}%)")
        ax.set_ylabel(f"PC2 ({100 * ratio[1]:.0f}%)" if len(ratio) > 1 else "")
    if labels is not None:
        fig.colorbar(scatter, ax=axes[0].tolist(), label="class", ticks=range(10))
    fig.suptitle("PCA of samples from q(z_i | x)")
    return _save(fig, path)


def _settled(epoch: np.ndarray) -> np.ndarray:
    """Which epochs of a run [E] come after its first tenth, whose steep rise would
    flatten the rest of a curve."""
    return epoch >= epoch[0] + max(1, len(epoch) // 10)


def _fit_y(ax: plt.Axes, values: np.ndarray) -> None:
    """Limits the y-axis to `values` (the settled bounds) with a margin; leaves it alone
    when there are none (a run of one epoch)."""
    if values.size:
        low, high = values.min(), values.max()
        margin = 0.05 * (high - low) + 0.5
        ax.set_ylim(low - margin, high + margin)


def bound_curves(metrics: Mapping[str, np.ndarray], path: str | Path) -> Path:
    """Fig. 4: the training ELBO, the test ELBO and the test IW bound (where evaluated)
    against the epoch, from a run's metrics.csv columns. The y-axis starts at the lowest
    bound after the first tenth of the run, so the first epochs' steep rise does not
    flatten the rest."""
    epoch = metrics["epoch"]
    settled = _settled(epoch)
    shown = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, line, marker, label in (
        ("elbo", "-", None, "train ELBO"),
        ("val_elbo", "-.", None, "validation ELBO"),
        ("test_elbo", "--", None, "test ELBO"),
        ("test_log_likelihood", "-", "o", "test IW bound"),
    ):
        evaluated = np.isfinite(metrics[key]) if key in metrics else []
        if np.any(evaluated):  # columns recorded every few epochs are NaN in between
            if np.sum(evaluated) == 1:  # a line through one point draws nothing
                marker = "o"
            x, y = epoch[evaluated], metrics[key][evaluated]
            ax.plot(x, y, linestyle=line, marker=marker, label=label)
            shown.append(metrics[key][evaluated & settled])
    _fit_y(ax, np.concatenate(shown) if shown else np.array([]))
    ax.set_xlabel("epoch")
    ax.set_ylabel("bound on log p(x) (nats)")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def run_curves(runs: Mapping[str, Mapping[str, np.ndarray]], path: str | Path) -> Path:
    """Fig. 4 for several runs: each run's test IW bound (solid, with markers) and training
    ELBO (dashed) against the epoch, one colour a run. runs: label -> its metrics.csv
    columns ("epoch", "elbo", "test_log_likelihood"; NaN where not recorded). The y-axis
    spans every run's values after that run's first tenth."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    shown = []
    for i, (label, metrics) in enumerate(runs.items()):
        epoch = metrics["epoch"]
        for key, style, suffix in (
            ("test_log_likelihood", "o-", "test IW bound"),
            ("elbo", "--", "train ELBO"),
        ):
            values = metrics.get(key, np.full_like(epoch, np.nan))
            kept = np.isfinite(values)
            if np.any(kept):
                ax.plot(
                    epoch[kept],
                    values[kept],
                    style,
                    color=f"C{i}",
                    markersize=3,
                    linewidth=1.0 if key == "elbo" else 1.5,
                    label=f"{label}, {suffix}",
                )
                shown.append(values[kept & _settled(epoch)])
    _fit_y(ax, np.concatenate(shown) if shown else np.array([]))
    ax.set_xlabel("epoch")
    ax.set_ylabel("bound on log p(x) (nats)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    ax.grid(alpha=0.3)
    return _save(fig, path)


def depth_curves(
    results: Mapping[str, Mapping[int, float]],
    paper: Mapping[str, Mapping[int, float]],
    path: str | Path,
    title: str = "",
    *,
    epochs: int,
    paper_epochs: int,
) -> Path:
    """Fig. 3: the test log-likelihood against the number of latent layers, one line per
    model variant (ours, trained `epochs` epochs), with the paper's values (after
    `paper_epochs`) as open markers of the same colour; the legend gives both budgets.

    results, paper: variant -> {layers: value}.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (variant, values) in enumerate(results.items()):
        colour = f"C{i}"
        layers = sorted(values)
        label = f"{variant}, {epochs} epochs"
        ax.plot(layers, [values[n] for n in layers], "o-", color=colour, label=label)
        theirs = paper.get(variant, {})
        if theirs:
            ax.plot(
                sorted(theirs),
                [theirs[n] for n in sorted(theirs)],
                "s--",
                color=colour,
                markerfacecolor="none",
                label=f"{variant}, the paper, {paper_epochs} epochs",
            )
    ax.set_xlabel("latent layers")
    ax.set_ylabel("test log-likelihood (nats)")
    ax.set_title(title, fontsize="medium")
    ax.set_xticks(sorted({n for values in (*results.values(), *paper.values()) for n in values}))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))  # beside the axes
    ax.grid(alpha=0.3)
    return _save(fig, path)
