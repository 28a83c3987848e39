"""tf_lvae: deep hierarchical VAEs and probabilistic Ladder VAEs (Sønderby et al. 2016)."""

from tf_lvae.bounds import chunked_iw_bound, iw_bound, per_unit_kl, training_objective
from tf_lvae.config import ModelConfig, Preset, TrainingConfig, preset
from tf_lvae.layers import GaussianHead, MLPBlock, precision_weighted_merge
from tf_lvae.model import HierarchicalVAE
from tf_lvae.optimizer import ClippedAdam, make_optimizer
from tf_lvae.schedules import WarmUp

__all__ = [
    "ClippedAdam",
    "GaussianHead",
    "HierarchicalVAE",
    "MLPBlock",
    "ModelConfig",
    "Preset",
    "TrainingConfig",
    "WarmUp",
    "chunked_iw_bound",
    "iw_bound",
    "make_optimizer",
    "per_unit_kl",
    "precision_weighted_merge",
    "preset",
    "training_objective",
]
