"""The compiled functions of a model's evaluations, traced once per model and key."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable

import keras
import tensorflow as tf

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled(
    model: keras.Model, key: Hashable, fn: Callable, jit_compile: bool = False
) -> tf.types.experimental.GenericFunction:
    """tf.function(fn, jit_compile=jit_compile) of `model`'s computation `key`: made at the
    first call with that key and kept while the model lives, so it is traced once.

    Without AutoGraph, as Keras exports its endpoints: the model's control flow on tensors is
    written with tf.while_loop and tf.cond, its Python loops run over layers and so unroll
    to the same graph, and tracing skips rewriting the source (docs/results/performance.md).
    """
    functions = _CACHE.setdefault(model, {})
    if key not in functions:
        functions[key] = tf.function(fn, jit_compile=jit_compile, autograph=False)
    return functions[key]
