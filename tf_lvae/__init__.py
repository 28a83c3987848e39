"""tf_lvae: deep hierarchical VAEs and probabilistic Ladder VAEs (Sønderby et al. 2016).

`import tf_lvae` registers the package's Keras classes, as every Keras package does, so
that `keras.saving.load_model` finds them in a saved model.keras; TensorFlow starts. The
project's own commands (`python -m training.fit`, `export.saved_model`, ...) are the
exception: they parse their options before TensorFlow starts, and import the model when
they need it. The names below are imported at their first use (`tf_lvae.lazy`).
"""

import sys

from tf_lvae.lazy import lazy_exports

COMMAND_PACKAGES = ("training", "export")

_HOMES = {
    "chunked_iw_bound": "bounds",
    "free_bits_objective": "bounds",
    "iw_bound": "bounds",
    "per_unit_kl": "bounds",
    "training_objective": "bounds",
    "ConvBlock": "conv_layers",
    "ConvGaussianHead": "conv_layers",
    "ResamplingConv2D": "conv_layers",
    "ResidualBlock": "conv_layers",
    "ModelConfig": "config",
    "Preset": "presets",
    "TrainingConfig": "config",
    "preset": "presets",
    "GaussianHead": "layers",
    "MLPBlock": "layers",
    "precision_weighted_merge": "layers",
    "HierarchicalVAE": "model",
    "ClippedAdam": "optimizer",
    "make_optimizer": "optimizer",
    "WarmUp": "schedules",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)


def _running_a_command() -> bool:
    """Whether this process runs one of the project's commands (`python -m training.fit`):
    the module run as __main__ belongs to COMMAND_PACKAGES."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec is not None and spec.name.partition(".")[0] in COMMAND_PACKAGES


if not _running_a_command():
    import tf_lvae.model  # noqa: F401  (registers every Keras class of the package)
