"""tf_lvae: deep hierarchical VAEs and probabilistic Ladder VAEs (Sønderby et al. 2016).

The names below are imported at their first use (`tf_lvae.lazy`): `import tf_lvae` alone
does not start TensorFlow.
"""

from tf_lvae.lazy import lazy_exports

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
    "Preset": "config",
    "TrainingConfig": "config",
    "preset": "config",
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
