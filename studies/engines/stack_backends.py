"""The Stack of the running Keras backend, and the idle stacks kept for their compiled code. Apart from
stack.py so that imports run one way: each backend's module imports `Stack` from stack.py, and only this
module imports the backends.

Tracing and compiling a stack's training and evaluation code costs seconds, as much as a small stack's whole
training (article 002's, or a smoke run's), so a stack whose run is over is kept (`release`) and the next
stack of the same `program_key` restarts it instead of compiling its own. Only the most recently used
IDLE_LIMIT are kept: each holds its weights, optimizer slots and compiled code.
"""
from __future__ import annotations

from collections import OrderedDict

import keras

from studies.config.settings import ConfigError
from studies.engines.stack import Stack, program_key

IDLE_LIMIT = 8
idle = OrderedDict()  # program_key -> a stack no run is using, least recently released first


def make_stack(models: list, optimizer, learning_rates: list, loss: str, metrics: list, seeds: list, y_example,
               jit_compile=True) -> Stack:
    """A Stack of the running backend (tensorflow or jax) that trains `models` from their initial weights:
    an idle stack of the same program restarted (then `optimizer` is only its key), else a new one."""
    key = program_key(models, optimizer, loss, metrics, y_example, jit_compile)
    stack = idle.pop(key, None)
    if stack is not None:
        stack.restart(models, learning_rates, seeds)
        return stack
    stack = _backend_stack()(models, optimizer, learning_rates, loss, metrics, seeds, y_example,
                             jit_compile=jit_compile)
    stack.program_key = key
    return stack


def release(stack: Stack) -> None:
    """Keep `stack`, whose run is over, for the next stack of its program."""
    idle[stack.program_key] = stack
    idle.move_to_end(stack.program_key)
    while len(idle) > IDLE_LIMIT:
        idle.popitem(last=False)


def _backend_stack() -> type:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from studies.engines.stack_tensorflow import TensorFlowStack
        return TensorFlowStack
    if backend == "jax":
        from studies.engines.stack_jax import JaxStack
        return JaxStack
    raise ConfigError(f"engine fast: Keras backend {backend!r} is not supported; use KERAS_BACKEND=tensorflow or jax")
