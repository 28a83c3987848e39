"""The most work one request to an export may ask for (light: the export command's options
use it before TensorFlow starts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServingLimits:
    """The most work one request may ask for: a larger request fails with an
    InvalidArgument naming the limit. Set at export and recorded with it.

    Attributes:
      max_batch: examples of x in one request (encode, reconstruct, score).
      max_samples: images one sample request generates.
      max_score_samples: IW samples one score request draws, examples x K (the default,
        5,000,000, is 1,000 images at the paper's K = 5000: about a minute on 2 CPU cores).
      max_temperature: the largest temperature of sample.
    """

    max_batch: int = 10_000
    max_samples: int = 10_000
    max_score_samples: int = 5_000_000
    max_temperature: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_samples", "max_score_samples"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0 < self.max_temperature < float("inf"):
            raise ValueError(f"max_temperature must be > 0 and finite: {self.max_temperature!r}")
