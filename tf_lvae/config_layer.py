"""The base of the hierarchy's networks (inference and generative): a Keras layer whose
whole structure a ModelConfig decides, serialized as that config."""

from __future__ import annotations

import keras

from tf_lvae.config import ModelConfig


class ModelConfigLayer(keras.layers.Layer):
    """A layer whose structure a whole ModelConfig decides; serialized as that config."""

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(ModelConfig.from_dict(config.pop("config")), **config)
