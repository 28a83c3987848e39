"""The one place that builds the layers of every connection from the config: its
deterministic block, the Gaussian head of a latent layer, and the head of p(x | z_1).

config.architecture picks them: "mlp", the paper's two-layer MLPs and dense heads
(docs/method.md §1); "conv", residual convolutional blocks and convolutional heads
(docs/method.md §7). The hierarchy (inference.py, generative.py, bounds.py) sees tensors
[rows, *config.latent_shape(i)] and [rows, *config.data_shape], whichever built them.

Connection `layer` (0-based) joins latent layer `layer` with the one below it (x for 0):
its block has width hidden_dims[layer] and, convolutional, works at the resolution of
latent layer `layer`, the coarser of the two.
"""

from __future__ import annotations

import math

import keras

from tf_lvae.bounds import IW_CHUNK_ROWS
from tf_lvae.config import PAPER_HIDDEN_DIMS, ModelConfig
from tf_lvae.conv_layers import ConvBlock, ConvGaussianHead, ResamplingConv2D
from tf_lvae.layers import GaussianHead, MLPBlock

# The chunked IW bound's rows are bounded by the numbers in the widest activation: the
# paper's MLP draws IW_CHUNK_ROWS rows of at most 512 units at once (measured fastest,
# docs/results/performance.md); a convolutional model draws as many numbers.
IW_CHUNK_NUMBERS = IW_CHUNK_ROWS * max(PAPER_HIDDEN_DIMS)
# The convolutional model's batch-norm statistics pass holds one chunk's activations:
# 128 MB per activation in float32.
BATCH_NORM_PASS_NUMBERS = 2**25


def _spatial(shape: tuple[int, ...]) -> tuple[int, int]:
    return shape[0], shape[1]


def connection_block(config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
    """The deterministic block of connection `layer`: input [rows, *shape below or above]
    -> hidden features [rows, hidden_dims[layer]] ("mlp") or [rows, H, W, hidden_dims[layer]]
    at latent layer `layer`'s resolution ("conv")."""
    common = {
        "activation": config.activation,
        "batch_norm": config.batch_norm,
        "batch_norm_epsilon": config.batch_norm_epsilon,
        "synchronized": config.synchronized_batch_norm,
        "name": name,
    }
    if config.architecture == "conv":
        size = _spatial(config.latent_shape(layer))
        return ConvBlock(config.hidden_dims[layer], size, config.residual_blocks, **common)
    return MLPBlock(config.hidden_dims[layer], **common)


def latent_head(config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
    """The Gaussian head of latent layer `layer` (0-based): hidden features -> (mean,
    variance), each [rows, *config.latent_shape(layer)], with batch norm when
    config.batch_norm_on_latents."""
    common = {
        "min_variance": config.min_variance,
        "batch_norm": config.batch_norm_on_latents,
        "batch_norm_epsilon": config.batch_norm_epsilon,
        "synchronized": config.synchronized_batch_norm,
        "name": name,
    }
    if config.architecture == "conv":
        shape = config.latent_shape(layer)
        return ConvGaussianHead(shape[-1], _spatial(shape), **common)
    return GaussianHead(config.latent_dims[layer], **common)


def data_head(config: ModelConfig) -> keras.layers.Layer:
    """The head of p(x | z_1), in float32, without batch norm: Bernoulli logits
    [rows, *config.data_shape], or a Gaussian's (mean, variance) of that shape."""
    conv = config.architecture == "conv"
    shape = config.data_shape
    if config.likelihood == "bernoulli":
        if conv:
            return ResamplingConv2D(
                shape[-1], _spatial(shape), name="decoder_logits", dtype="float32"
            )
        return keras.layers.Dense(config.data_dim, name="decoder_logits", dtype="float32")
    if conv:
        return ConvGaussianHead(
            shape[-1], _spatial(shape), config.min_variance, name="decoder_head"
        )
    return GaussianHead(config.data_dim, config.min_variance, name="decoder_head")


def compiles_with_xla(config: ModelConfig) -> bool:
    """Whether this architecture's steps are XLA-compiled when a run asks for XLA
    (TrainingConfig.jit_compile): the MLP's are (1.45 times faster); the convolutional
    model's are not (XLA's CPU convolutions were 21 times slower, and XLA cannot
    differentiate nearest-neighbour resizing; docs/results/performance.md)."""
    return config.architecture == "mlp"


def _widest_activation(config: ModelConfig) -> int:
    """Numbers per row in the convolutional model's widest activation."""
    pixels = [math.prod(_spatial(config.latent_shape(i))) for i in range(config.num_layers)]
    widths = config.hidden_dims
    return max(
        math.prod(_spatial(config.data_shape)) * widths[0],  # upsampled to the data
        *(pixels[i] * widths[i] for i in range(config.num_layers)),  # each block
        *(pixels[i] * widths[i + 1] for i in range(config.num_layers - 1)),  # upsampled
    )


def iw_chunk_rows(config: ModelConfig) -> int:
    """Rows (examples x samples) the chunked IW bound draws at once for this model:
    IW_CHUNK_ROWS for an MLP; for a convolutional model, as many as keep its widest
    activation within IW_CHUNK_NUMBERS numbers."""
    if config.architecture == "mlp":
        return IW_CHUNK_ROWS
    return max(1, IW_CHUNK_NUMBERS // _widest_activation(config))


def batch_norm_chunk_rows(config: ModelConfig) -> int | None:
    """Examples the batch-norm statistics pass (evaluation/batch_norm.py) feeds at once:
    None for an MLP, the whole training set in one batch as the authors did (0.5 GB for
    MNIST); for a convolutional model, as many as keep its widest activation within
    BATCH_NORM_PASS_NUMBERS numbers (one batch of MNIST would take 16.9 GB)."""
    if config.architecture == "mlp":
        return None
    return max(1, BATCH_NORM_PASS_NUMBERS // _widest_activation(config))
