"""A run's whole configuration, saved as RUN_DIR/config.json: the data, the model, how it
is trained and how the run records itself."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from tf_lvae.config import PIXEL_SCALES, ModelConfig, TrainingConfig, require
from tf_lvae.constants import PAPER_TEST_IW_SAMPLES


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run, saved as RUN_DIR/config.json.

    Attributes:
      dataset: the dataset spec given to `tf_lvae.data.load_dataset` ("mnist", "npz:PATH",
        "folder:PATH", ...).
      data_dir: where the data was read from (None: tensorflow-datasets' default).
      image_size: (height, width) the images of a folder: dataset are resized to; None:
        as they are.
      model, training: the model and how it is trained.
      validation: examples (int) or fraction (float) of the training set held out; 0 = none.
      monitor_every: record the test ELBO and the per-unit KL every this many epochs
        and at the last one.
      eval_every: compute the test IW bound every this many epochs during training (0 = never).
      eval_iw_samples: K of that periodic test IW bound.
      final_iw_samples: K of the final test log-likelihood (the paper's 5000).
      unit_kl_examples: test examples used for the per-unit KL record (0 = off).
      init_from: a finished run whose last checkpoint starts this one (fine-tuning), or None.
      dequantize: with a Gaussian likelihood on integer-valued data (8-bit images), add
        uniform noise to the integers, afresh every epoch in training and once for
        evaluation (docs/method.md §5); False: the values as stored.
      pixel_scale: 8-bit images binarized for a Bernoulli likelihood are drawn from
        byte / pixel_scale: 255 (the tfds and torchvision convention) or 256 (the authors'
        MNIST, `AUTHORS_PIXEL_SCALE`), in training, in every evaluation and in the
        batch-norm pass alike (`tf_lvae.data.splits.load_run_data`).
    """

    dataset: str
    data_dir: str | None
    model: ModelConfig
    training: TrainingConfig
    validation: float = 0
    monitor_every: int = 5
    eval_every: int = 100
    eval_iw_samples: int = 100
    final_iw_samples: int = PAPER_TEST_IW_SAMPLES
    unit_kl_examples: int = 1000
    init_from: str | None = None
    dequantize: bool = True
    image_size: tuple[int, int] | None = None
    pixel_scale: int = PIXEL_SCALES[0]

    def __post_init__(self) -> None:
        if self.image_size is not None:
            object.__setattr__(self, "image_size", tuple(self.image_size))
            require(
                len(self.image_size) == 2
                and all(isinstance(d, int) and d >= 1 for d in self.image_size),
                f"image_size must be two positive integers (height, width), got "
                f"{self.image_size!r}.",
            )
        require(
            isinstance(self.validation, int | float)
            and math.isfinite(self.validation)
            and self.validation >= 0,
            f"validation must be a count or a fraction >= 0, got {self.validation!r}.",
        )
        for name, low in (
            ("monitor_every", 1),
            ("eval_every", 0),
            ("eval_iw_samples", 1),
            ("final_iw_samples", 1),
            ("unit_kl_examples", 0),
        ):
            value = getattr(self, name)
            require(
                isinstance(value, int) and value >= low,
                f"{name} must be an integer >= {low}, got {value!r}.",
            )
        most = self.model.data_dim * math.log(256)
        require(
            self.training.free_bits <= most,
            f"free bits of {self.training.free_bits:g} nats per group are more than any data "
            f"this model takes can hold ({self.model.data_dim} values of 8 bits: "
            f"{most:,.0f} nats): every group would sit at the floor and the KL would not be "
            "trained. Give --free-bits a few nats or less.",
        )
        require(
            type(self.pixel_scale) is int and self.pixel_scale in PIXEL_SCALES,
            f"pixel_scale must be one of {PIXEL_SCALES}, got {self.pixel_scale!r}.",
        )
        require(
            not self.model.batch_norm or self.training.batch_size >= 2,
            "batch norm needs batches of 2 or more examples: on one it subtracts the "
            "example's own mean, so every normalized unit is 0 and the networks' outputs do "
            "not depend on their inputs. Use a batch size of 2 or more (--batch-size), or no "
            "batch norm (--no-batch-norm).",
        )

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["model"] = self.model.to_dict()
        values["training"] = self.training.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        """The config of a `to_dict` dict; one written before `dequantize` existed trained
        on the stored values."""
        values = {"dequantize": False, **values}
        values["model"] = ModelConfig.from_dict(values["model"])
        values["training"] = TrainingConfig.from_dict(values["training"])
        return cls(**values)
