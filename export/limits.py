"""The most work one request to an export may ask for (light: the export command's options
use it before TensorFlow starts)."""

from __future__ import annotations

from dataclasses import dataclass

INT32_MAX = 2**31 - 1  # the signatures take and compare these numbers as int32


@dataclass(frozen=True)
class ServingLimits:
    """The most work one request may ask for: a larger request fails with an
    InvalidArgument naming the limit. Set at export and recorded with it.

    Attributes:
      max_batch: examples of x in one request (encode, reconstruct, score).
      max_samples: images one sample request generates.
      max_score_samples: IW samples one score request draws, examples x K (the default,
        5,000,000, is 1,000 images at the paper's K = 5000; docs/serving.md says what that
        costs).
      max_temperature: the largest temperature of sample.
    """

    max_batch: int = 10_000
    max_samples: int = 10_000
    max_score_samples: int = 5_000_000
    max_temperature: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_samples", "max_score_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= INT32_MAX:
                raise ValueError(
                    f"{name} (--{name.replace('_', '-')}) must be an integer in 1..{INT32_MAX:,} "
                    f"(the signatures' int32), got {value!r}"
                )
        if not 0 < self.max_temperature < float("inf"):
            raise ValueError(f"max_temperature must be > 0 and finite: {self.max_temperature!r}")

    def check_score_default(self, num_samples: int) -> None:
        """Raises ValueError unless score_default's K fits within max_score_samples (else
        every request to it would fail)."""
        if not 1 <= num_samples <= self.max_score_samples:
            raise ValueError(
                f"the K of score_default ({num_samples:,}, --num-samples) must be in "
                f"1..{self.max_score_samples:,}, the export's max_score_samples "
                "(--max-score-samples)"
            )
