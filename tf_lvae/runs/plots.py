"""The figures of a trained run (`python -m training.plots`), as PNG files in RUN_DIR/plots."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tf_lvae.data.splits import load_run_data, test_images
from tf_lvae.evaluation import figures
from tf_lvae.evaluation.analysis import (
    ACTIVE_THRESHOLD,
    heatmap_rows,
    layer_totals,
    mean_unit_kls,
    pca,
    posterior_samples,
)
from tf_lvae.evaluation.batch_norm import set_batch_norm_statistics
from tf_lvae.evaluation.images import PER_LAYER, RECONSTRUCTED, model_images
from tf_lvae.runs.checkpoints import load_run_model
from tf_lvae.runs.run_dir import RecordDamaged, RunDir


def read_record(read: Callable, figure: str) -> Any:
    """What read() returns, or None when the record is missing (said on stdout) or damaged
    (a warning on stderr): the figure that needs it is skipped."""
    try:
        return read()
    except FileNotFoundError as err:
        print(f"skipping {figure}: {err}")
    except RecordDamaged as err:
        print(f"warning: skipping {figure}: {err}", file=sys.stderr)
    return None


def draw_run_figures(
    run: RunDir,
    examples: int,
    samples: int,
    batch_norm: str,
    seed: int,
    data_dir: str | None = None,
) -> list[Path]:
    """Draws the figures of the run's model (model.keras, or the latest checkpoint with
    batch_norm "moving") into run.plots_dir: `samples` prior samples, reconstructions,
    Fig. 6b, Figs. 6a and 7 on the first `examples` test examples, Fig. 5 and Fig. 4 from
    the run's records (skipped without them). `data_dir`: where the run's data are read
    from instead of its config's. Returns the files written."""
    config = run.read_config()
    if data_dir is not None:
        config = dataclasses.replace(config, data_dir=data_dir)
    unit_kl = read_record(run.read_unit_kl, "Fig. 5 (unit_kl.png)")
    metrics = read_record(run.read_metrics, "Fig. 4 (bounds.png)")
    model = load_run_model(run.path, "latest" if batch_norm == "moving" else "final")
    data = load_run_data(config)
    set_batch_norm_statistics(model, data, config, batch_norm, seed)
    out = run.plots_dir
    x = test_images(data)[:examples]
    labels = None if data.y_test is None else data.y_test[: len(x)]
    images = model_images(model, x[:RECONSTRUCTED], samples, PER_LAYER, seed)
    kls = mean_unit_kls(model, x, seed=seed)
    projections = [pca(z) for z in posterior_samples(model, x, seed=seed)]
    written = [
        figures.image_grid(images.prior, out / "prior_samples.png", "Samples from the prior"),
        figures.reconstructions(
            x[:RECONSTRUCTED], images.reconstructions, out / "reconstructions.png"
        ),
        figures.layer_samples(images.layers, out / "layer_samples.png"),
        figures.layer_kl_bars(
            layer_totals(kls.prior), layer_totals(kls.standard_normal), out / "layer_kl.png"
        ),
        figures.pca_scatter(
            [p.points for p in projections],
            [p.explained for p in projections],
            labels,
            out / "pca.png",
        ),
    ]
    if unit_kl is not None:
        rows, row = heatmap_rows(unit_kl[1])
        written.append(
            figures.unit_kl_heatmaps(unit_kl[0], rows, out / "unit_kl.png", ACTIVE_THRESHOLD, row)
        )
    if metrics is not None:
        written.append(figures.bound_curves(metrics, out / "bounds.png"))
    return written
