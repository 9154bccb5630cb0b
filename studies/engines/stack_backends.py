"""The Stack of the running Keras backend. Apart from stack.py so that imports run one way: each backend's
module imports `Stack` from stack.py, and only this module imports the backends."""
from __future__ import annotations

import keras

from studies.config import ConfigError
from studies.engines.stack import Stack


def make_stack(*arguments, **settings) -> Stack:
    """The Stack of the running Keras backend (tensorflow or jax)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from studies.engines.stack_tensorflow import TensorFlowStack
        return TensorFlowStack(*arguments, **settings)
    if backend == "jax":
        from studies.engines.stack_jax import JaxStack
        return JaxStack(*arguments, **settings)
    raise ConfigError(f"engine fast: Keras backend {backend!r} is not supported; use KERAS_BACKEND=tensorflow or jax")
