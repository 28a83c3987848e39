"""The test log-likelihood of a model over a whole dataset: the IW bound and the ELBO,
compiled, in batches, with seeds that depend only on the seed and the batch.

The images a run is scored on come from `tf_lvae.data.splits` (`test_images` for the test
set), so training, evaluation and analysis all score the same fixed draw.
"""

from __future__ import annotations

import math
import time

import numpy as np

from tf_lvae.architecture import architecture_of
from tf_lvae.bounds import iw_chunk_rows, iw_chunk_size
from tf_lvae.data.pipeline import seeded_batches
from tf_lvae.evaluation.compiled import compiled
from tf_lvae.model import HierarchicalVAE
from tf_lvae.progress import Progress


class Evaluator:
    """Scores datasets with one model through compiled functions (one trace per K).

    Args:
      model: the model to score.
      batch_size: examples per compiled call; the IW samples of a call are drawn in
        chunks of `bounds.iw_chunk_size(K, batch_size, bounds.iw_chunk_rows(...))`,
        so memory is bounded for any K.
      jit_compile: XLA (speed only), where the architecture compiles with it
        (`Architecture.compiles_with_xla`).
    """

    def __init__(self, model: HierarchicalVAE, batch_size: int = 500, jit_compile: bool = True):
        self.model = model
        self.batch_size = batch_size
        self.jit_compile = jit_compile and architecture_of(model.model_config).compiles_with_xla
        self.chunk_rows = iw_chunk_rows(model.model_config)

    def score(
        self,
        x: np.ndarray,
        num_samples: int,
        seed: int = 0,
        verbose: int = 0,
        first_batch: int = 0,
    ) -> dict[str, np.ndarray]:
        """Per-example IW log-likelihood (K = num_samples) and ELBO of x [M, ...]:
        {"log_likelihood": [M], "elbo": [M]}. verbose=1 shows progress with an ETA.
        x's batches draw as batches first_batch, first_batch + 1, ... of a larger set
        (`seeded_batches`), so the parts of a set score as the whole does."""
        chunk = iw_chunk_size(num_samples, self.batch_size, self.chunk_rows)
        fn = compiled(
            self.model,
            ("score", num_samples, chunk, self.jit_compile),
            lambda batch, batch_seed: self.model.score(batch, num_samples, chunk, batch_seed),
            self.jit_compile,
        )
        progress = Progress(len(x), "example", verbose)
        out: dict[str, list[np.ndarray]] = {"log_likelihood": [], "elbo": []}
        for batch, batch_seed in seeded_batches(x, self.batch_size, seed, first_batch):
            result = fn(batch, batch_seed)
            for key in out:
                out[key].append(result[key].numpy())
            progress.add(len(batch))
        return {key: np.concatenate(parts) for key, parts in out.items()}


def bits_per_dim(log_likelihood: float, dims: int, scale: float = 1) -> float:
    """(-log_likelihood + dims log scale) / (dims log 2). For a lower bound `log_likelihood`
    (nats) on log P(x) of 8-bit levels (scale 1), an upper bound on their bits per
    dimension; on the log-density of dequantized data x = (k + u) / scale, u ~ U[0, 1)^dims,
    an upper bound on the bits per dimension of the integers k (docs/method.md §5)."""
    return (-log_likelihood + dims * math.log(scale)) / (dims * math.log(2.0))


def test_numbers(report: dict[str, float]) -> str:
    """'log-likelihood L, ELBO E' of a `log_likelihood_report`, with '(<= B bits/dim)'
    after L when it has bits_per_dim."""
    bits = f" (<= {report['bits_per_dim']:.3f} bits/dim)" if "bits_per_dim" in report else ""
    return f"log-likelihood {report['log_likelihood']:.2f}{bits}, ELBO {report['elbo']:.2f}"


def log_likelihood_report(
    evaluator: Evaluator,
    x: np.ndarray,
    num_samples: int,
    seed: int = 0,
    verbose: int = 0,
    bits_scale: int | None = None,
    first_batch: int = 0,
) -> dict[str, float]:
    """Dataset means of the IW bound and the ELBO, with K, the example count and the time;
    with a `bits_scale` (`DatasetArrays.bits_scale`), also `bits_per_dim`, and for
    dequantized data (a scale above 1) the `dequantization_scale`. first_batch: as in
    `Evaluator.score`."""
    start = time.perf_counter()
    scores = evaluator.score(x, num_samples, seed, verbose, first_batch)
    report = {key: float(np.mean(value)) for key, value in scores.items()}
    if bits_scale is not None:
        dims = math.prod(x.shape[1:])
        report["bits_per_dim"] = bits_per_dim(report["log_likelihood"], dims, bits_scale)
        if bits_scale > 1:
            report["dequantization_scale"] = bits_scale
    return {
        **report,
        "iw_samples": num_samples,
        "examples": len(x),
        "seconds": round(time.perf_counter() - start, 1),
    }
