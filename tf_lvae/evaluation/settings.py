"""How a run is evaluated (`EvaluationSettings`), apart from the evaluation itself: light,
so that the commands read it before TensorFlow starts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tf_lvae.config import BATCH_NORM_CHOICES, PIXEL_SCALES, SPLITS
from tf_lvae.constants import PAPER_TEST_IW_SAMPLES

_EVALUATION_SPEED_ONLY = ("batch_size", "jit_compile")


def pixel_scale_name(pixel_scale: int | None) -> str:
    """'pixel-scale-N' for an evaluation at another pixel scale than its run's, else ''."""
    return "" if pixel_scale is None else f"pixel-scale-{pixel_scale}"


@dataclass(frozen=True)
class EvaluationSettings:
    """How a run is evaluated.

    Attributes:
      iw_samples: K of the IW bound (the paper's 5000).
      split: "test", "train" or "validation" (see `evaluation.split_images`).
      batch_norm: "recomputed" (one pass over the training set, as the authors; see
        `batch_norm_stats`) or "moving" (the moving averages of training, from the
        latest checkpoint).
      seed: seed of the posterior samples and of the fresh binarization; None: the
        run's training seed.
      first_example, examples: evaluate this many examples of the split (None: all) from
        first_example on, a multiple of batch_size. A part that also ends on a multiple
        of batch_size (or at the split's end) draws the samples the whole split's
        evaluation draws for its examples, so parts combine into it exactly
        (`runs.report_parts`).
      batch_size, jit_compile: speed only (examples per compiled call, XLA); the draws
        depend on them, so the parts of one evaluation share them.
      pixel_scale: evaluate on binarized 8-bit images drawn from byte / pixel_scale, the
        batch-norm statistics recomputed from training images drawn the same way
        (`RunConfig.pixel_scale`); None: the run's own.
    """

    iw_samples: int = PAPER_TEST_IW_SAMPLES
    split: str = "test"
    batch_norm: str = "recomputed"
    seed: int | None = None
    examples: int | None = None
    batch_size: int = 500
    jit_compile: bool = True
    first_example: int = 0
    pixel_scale: int | None = None

    def __post_init__(self) -> None:
        if self.pixel_scale is not None and self.pixel_scale not in PIXEL_SCALES:
            raise ValueError(f"pixel_scale must be one of {PIXEL_SCALES}, got {self.pixel_scale}")
        if self.iw_samples < 1:
            raise ValueError(f"the number of IW samples K must be >= 1, got {self.iw_samples}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.batch_norm not in BATCH_NORM_CHOICES:
            raise ValueError(
                f"batch_norm must be one of {', '.join(BATCH_NORM_CHOICES)}, "
                f"got {self.batch_norm!r}"
            )
        if self.examples is not None and self.examples < 1:
            raise ValueError(f"examples must be >= 1, got {self.examples}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.first_example < 0 or self.first_example % self.batch_size:
            raise ValueError(
                f"the first example ({self.first_example}) must be a multiple of the batch "
                f"size ({self.batch_size}), so that the part draws what the whole split's "
                "evaluation draws for it"
            )

    @property
    def part_name(self) -> str:
        """'' for the whole split, else 'examples-START-END' (END exclusive, or 'end')."""
        if self.first_example == 0 and self.examples is None:
            return ""
        end = "end" if self.examples is None else self.first_example + self.examples
        return f"examples-{self.first_example}-{end}"

    @property
    def report_name(self) -> str:
        """What names the report beside its split: `pixel_scale_name`, then `part_name`,
        joined by '-' ('' for the whole split at the run's own pixel scale)."""
        return "-".join(filter(None, (pixel_scale_name(self.pixel_scale), self.part_name)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def same_numbers(self, recorded: dict[str, Any]) -> bool:
        """Whether settings recorded in a report give the same numbers as these (a report
        written before first_example existed evaluated from the first example on)."""
        recorded = {"first_example": 0, **recorded}
        mine = {k: v for k, v in self.to_dict().items() if k not in _EVALUATION_SPEED_ONLY}
        return all(recorded.get(k) == v for k, v in mine.items())
