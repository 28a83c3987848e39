"""One object per architecture: what differs between the paper's MLP model and the
convolutional one, chosen once from the config (`architecture_of`).

An `Architecture` owns its tensors' shapes (the data and every latent layer), the
validation of its own options, whether its steps compile with XLA, how wide its rows are
(for the memory sizing of `bounds.iw_chunk_rows` and of the batch-norm pass), and the
layers of every connection: its deterministic block, the Gaussian head of a latent layer,
and the head of p(x | z_1). The hierarchy (inference.py, generative.py, bounds.py) sees
tensors [rows, *latent_shape(i)] and [rows, *data_shape], whichever built them. A third
architecture is one more subclass in `ARCHITECTURES`.

Connection `layer` (0-based) joins latent layer `layer` with the one below it (x for 0):
its block has width hidden_dims[layer] and, convolutional, works at the resolution of
latent layer `layer`, the coarser of the two.

Light: the layers are imported where they are built, so that the config (`ModelConfig`,
which asks its architecture for shapes and checks) stays free of TensorFlow; and this module
imports nothing of the package at its top (the config imports it, not the other way).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import keras


class ModelConfig(Protocol):
    """What an architecture reads of a `tf_lvae.config.ModelConfig`."""

    input_shape: tuple[int, ...]
    latent_dims: tuple[int, ...]
    hidden_dims: tuple[int, ...]
    strides: tuple[int, ...]
    residual_blocks: int
    likelihood: str
    mixture_components: int
    activation: str
    batch_norm: bool
    batch_norm_epsilon: float
    synchronized_batch_norm: bool
    min_variance: float

    @property
    def batch_norm_on_latents(self) -> bool: ...

    @property
    def num_layers(self) -> int: ...

    @property
    def data_dim(self) -> int: ...

    @property
    def channels(self) -> int: ...


class Architecture:
    """The parts of a model that differ between architectures (see the module)."""

    name: str
    compiles_with_xla: bool  # its steps are XLA-compiled when a run asks for XLA

    def check(self, config: ModelConfig) -> None:
        """Raises ValueError when the config's options do not fit this architecture."""
        raise NotImplementedError

    def data_shape(self, config: ModelConfig) -> tuple[int, ...]:
        """The shape the model gives one example."""
        raise NotImplementedError

    def latent_shape(self, config: ModelConfig, layer: int) -> tuple[int, ...]:
        """The shape of one example's latent layer `layer` (0-based: z_{layer+1})."""
        raise NotImplementedError

    def row_numbers(self, config: ModelConfig, likelihood_head: bool = True) -> int | None:
        """Numbers per row (example x sample) in the widest activation (the likelihood's
        head included unless likelihood_head=False: the batch-norm pass does not run it),
        which bound the rows computed at once; None where rows are narrow enough to be
        counted alone."""
        raise NotImplementedError

    def connection_block(self, config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
        """The deterministic block of connection `layer`: hidden features of width
        hidden_dims[layer] from the tensor below or above it."""
        raise NotImplementedError

    def latent_head(self, config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
        """The Gaussian head of latent layer `layer`: hidden features -> (mean, variance),
        each [rows, *latent_shape(layer)], with batch norm when config.batch_norm_on_latents."""
        raise NotImplementedError

    def data_head(self, config: ModelConfig) -> keras.layers.Layer:
        """The head of p(x | z_1), in float32, without batch norm: Bernoulli logits
        [rows, *data_shape], a Gaussian's (mean, variance) of that shape, or a logistic
        mixture's `mixture_parameters` per pixel."""
        raise NotImplementedError


def _block_options(config: ModelConfig, name: str) -> dict[str, Any]:
    """The options of a connection's block: its activation and batch norm."""
    return {**_norm_options(config, name), "activation": config.activation}


def _head_options(config: ModelConfig, name: str) -> dict[str, Any]:
    """The options of a latent layer's Gaussian head: batch norm if on the latents."""
    options = _norm_options(config, name)
    return {
        **options,
        "batch_norm": config.batch_norm_on_latents,
        "min_variance": config.min_variance,
    }


def _norm_options(config: ModelConfig, name: str) -> dict[str, Any]:
    return {
        "batch_norm": config.batch_norm,
        "batch_norm_epsilon": config.batch_norm_epsilon,
        "synchronized": config.synchronized_batch_norm,
        "name": name,
    }


def mixture_parameters(config: ModelConfig) -> int:
    """The outputs per pixel of a "logistic-mixture" head
    (`tf_lvae.logistic_mixture.parameter_count`)."""
    from tf_lvae.logistic_mixture import parameter_count

    return parameter_count(config.mixture_components, config.channels)


def _likelihood_numbers(config: ModelConfig) -> int | None:
    """The numbers per row of a wide likelihood head (the logistic mixture's parameters
    of every pixel), else None."""
    if config.likelihood != "logistic-mixture":
        return None
    return config.data_dim // config.channels * mixture_parameters(config)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


class MLP(Architecture):
    """The paper's: every connection a two-layer MLP, dense heads, latent layers vectors
    (docs/method.md §1). XLA-compiled (faster on CPU, docs/results/performance.md); its
    rows are narrow, so the IW bound draws a fixed number of them at once, unless the
    logistic mixture's head makes them wide."""

    name = "mlp"
    compiles_with_xla = True

    def check(self, config: ModelConfig) -> None:
        _require(
            not config.strides,
            f"strides are for architecture='conv'; an MLP has none (got {config.strides}).",
        )

    def data_shape(self, config: ModelConfig) -> tuple[int, ...]:
        return (config.data_dim,)

    def latent_shape(self, config: ModelConfig, layer: int) -> tuple[int, ...]:
        return (config.latent_dims[layer],)

    def row_numbers(self, config: ModelConfig, likelihood_head: bool = True) -> int | None:
        return _likelihood_numbers(config) if likelihood_head else None

    def connection_block(self, config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
        from tf_lvae.layers import MLPBlock

        return MLPBlock(config.hidden_dims[layer], **_block_options(config, name))

    def latent_head(self, config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
        from tf_lvae.layers import GaussianHead

        return GaussianHead(config.latent_dims[layer], **_head_options(config, name))

    def data_head(self, config: ModelConfig) -> keras.layers.Layer:
        import keras

        from tf_lvae.layers import GaussianHead

        if config.likelihood == "bernoulli":
            return keras.layers.Dense(config.data_dim, name="decoder_logits", dtype="float32")
        if config.likelihood == "logistic-mixture":
            units = _likelihood_numbers(config)  # every pixel's parameters
            return keras.layers.Dense(units, name="decoder_mixture", dtype="float32")
        return GaussianHead(config.data_dim, config.min_variance, name="decoder_head")


class Conv(Architecture):
    """Residual convolutional blocks and convolutional heads, latent layers [H_i, W_i, C_i]
    (docs/method.md §7). Not XLA-compiled (XLA's CPU convolutions were far slower, and XLA
    cannot differentiate nearest-neighbour resizing); its rows are wide, so the rows drawn
    at once are sized by their widest activation."""

    name = "conv"
    compiles_with_xla = False

    def check(self, config: ModelConfig) -> None:
        _require(
            len(config.input_shape) in (2, 3),
            "architecture='conv' needs images: input_shape (height, width) or (height, width, "
            f"channels), got {config.input_shape}.",
        )
        _require(
            all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in config.strides),
            f"strides must be positive integers, got {config.strides!r}.",
        )
        _require(
            len(config.strides) == len(config.latent_dims),
            f"strides needs one factor per latent layer: got {len(config.strides)} for "
            f"{len(config.latent_dims)} latent layers.",
        )
        _require(
            isinstance(config.residual_blocks, int) and config.residual_blocks >= 0,
            f"residual_blocks must be an integer >= 0, got {config.residual_blocks!r}.",
        )

    def data_shape(self, config: ModelConfig) -> tuple[int, ...]:
        return (*config.input_shape[:2], config.channels)

    def latent_shape(self, config: ModelConfig, layer: int) -> tuple[int, ...]:
        height, width = self.data_shape(config)[:2]
        for stride in config.strides[: layer + 1]:
            height, width = math.ceil(height / stride), math.ceil(width / stride)
        return (height, width, config.latent_dims[layer])

    def row_numbers(self, config: ModelConfig, likelihood_head: bool = True) -> int | None:
        pixels = [math.prod(self.latent_shape(config, i)[:2]) for i in range(config.num_layers)]
        widths = config.hidden_dims
        return max(
            (_likelihood_numbers(config) if likelihood_head else None) or 0,
            math.prod(self.data_shape(config)[:2]) * widths[0],  # upsampled to the data
            *(pixels[i] * widths[i] for i in range(config.num_layers)),  # each block
            *(pixels[i] * widths[i + 1] for i in range(config.num_layers - 1)),  # upsampled
        )

    def connection_block(self, config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
        from tf_lvae.conv_layers import ConvBlock

        size = self.latent_shape(config, layer)[:2]
        options = _block_options(config, name)
        return ConvBlock(config.hidden_dims[layer], size, config.residual_blocks, **options)

    def latent_head(self, config: ModelConfig, layer: int, name: str) -> keras.layers.Layer:
        from tf_lvae.conv_layers import ConvGaussianHead

        shape = self.latent_shape(config, layer)
        return ConvGaussianHead(shape[-1], shape[:2], **_head_options(config, name))

    def data_head(self, config: ModelConfig) -> keras.layers.Layer:
        from tf_lvae.conv_layers import ConvGaussianHead, ResamplingConv2D

        shape = self.data_shape(config)
        if config.likelihood == "bernoulli":
            return ResamplingConv2D(shape[-1], shape[:2], name="decoder_logits", dtype="float32")
        if config.likelihood == "logistic-mixture":
            parameters = mixture_parameters(config)
            return ResamplingConv2D(parameters, shape[:2], name="decoder_mixture", dtype="float32")
        return ConvGaussianHead(shape[-1], shape[:2], config.min_variance, name="decoder_head")


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (MLP(), Conv())}


def architecture_of(config: ModelConfig) -> Architecture:
    """The architecture object config.architecture names."""
    return ARCHITECTURES[config.architecture]
