"""The compiled functions of a model's evaluations, traced once per model and key."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import keras
import tensorflow as tf

# The cache lives on the model, so that it goes with it: a cache outside it (a
# WeakKeyDictionary) would keep every model alive, its functions' closures holding it.
_ATTRIBUTE = "_tf_lvae_compiled_functions"


def compiled(
    model: keras.Model, key: Hashable, fn: Callable, jit_compile: bool = False
) -> tf.types.experimental.GenericFunction:
    """tf.function(fn, jit_compile=jit_compile) of `model`'s computation `key`: made at the
    first call with that key and kept while the model lives, so it is traced once.

    Without AutoGraph, as Keras exports its endpoints: the model's control flow on tensors is
    written with tf.while_loop and tf.cond, its Python loops run over layers and so unroll
    to the same graph, and tracing skips rewriting the source (docs/results/performance.md).
    """
    functions = model.__dict__.get(_ATTRIBUTE)
    if functions is None:  # set around Keras's attribute tracking: a cache, not model state
        functions = {}
        object.__setattr__(model, _ATTRIBUTE, functions)
    if key not in functions:
        functions[key] = tf.function(fn, jit_compile=jit_compile, autograph=False)
    return functions[key]
