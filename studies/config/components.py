"""Components named by import path, in Hydra's `_target_` form: `{_target_: package.module.Name, **arguments}`.

Paths resolve with Hydra's own `get_class` / `get_method`, objects are built with `instantiate`, and an argument
that is itself a `_target_` mapping (an optimizer's learning-rate schedule) is built first. Modules are found
on sys.path; the `studybench` console script puts the working directory there, as `python -m` does. Every
failure is a one-line `ConfigError` naming the path, so a bad one stops a run before anything trains.
"""
from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import hydra.utils

from studies.config.settings import ConfigError

TARGET = "_target_"
SCHEDULE_EXAMPLE = "keras.optimizers.schedules.ExponentialDecay"  # the one nested component studybench documents


def is_target(spec: Any) -> bool:
    return isinstance(spec, dict) and TARGET in spec


def split_target(spec: dict) -> tuple[str, dict]:
    """{_target_: path, **arguments} -> (path, arguments)."""
    path = spec[TARGET]
    if not isinstance(path, str) or not path:
        raise ConfigError(f"_target_ {path!r} is not an import path; give one such as keras.optimizers.Adam")
    return path, {key: value for key, value in spec.items() if key != TARGET}


@contextmanager
def _quiet_hydra():
    """Hydra logs each failed look-up at ERROR, over several lines, before raising it; the raised error is
    reported in one line instead."""
    logger = logging.getLogger("hydra.utils")
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


def _reason(error: BaseException) -> str:
    """The root cause's first line: Hydra wraps import and call errors in its own multi-line ones."""
    while error.__cause__ is not None:
        error = error.__cause__
    return (str(error) or type(error).__name__).splitlines()[0]


def locate_class(path: str, what: str, base: type, example: str) -> type:
    try:
        with _quiet_hydra():
            found = hydra.utils.get_class(path)
    except Exception as error:  # ImportError, AttributeError, ValueError (a module or a function): all "no class"
        raise ConfigError(f"{what} _target_ {path!r}: no such class ({_reason(error)}); "
                          f"give an importable path such as {example}") from None
    if not issubclass(found, base):
        raise ConfigError(f"{what} _target_ {path!r} is not a subclass of {base.__name__}; give one such as {example}")
    return found


def locate_function(path: str, what: str, example: str) -> Callable:
    try:
        with _quiet_hydra():
            return hydra.utils.get_method(path)
    except Exception as error:
        raise ConfigError(f"{what} _target_ {path!r}: no such function ({_reason(error)}); "
                          f"give an importable path such as {example}") from None


def check_call(path: str, arguments: dict, what: str, *positional) -> None:
    """The function at `path` accepts `positional` and `arguments`, checked without calling it."""
    function = locate_function(path, what, "my_package.module.function")
    try:
        inspect.signature(function).bind(*positional, **arguments)
    except TypeError as error:
        raise ConfigError(f"{what} _target_ {path!r}: bad argument(s) {arguments}: {error}") from None


def resolve_arguments(arguments: dict, what: str) -> dict:
    """Arguments with each nested `_target_` mapping built (an optimizer's learning_rate schedule)."""
    return {key: build(value, f"{what} {key}", object, SCHEDULE_EXAMPLE) if is_target(value) else value
            for key, value in arguments.items()}


def build(spec: dict, what: str, base: type, example: str):
    """The object {_target_: path, **arguments} describes, an instance of `base`."""
    path, arguments = split_target(spec)
    locate_class(path, what, base, example)
    return call(path, resolve_arguments(arguments, what), what)


def call(path: str, arguments: dict, what: str):
    """`path`(**arguments) by Hydra's instantiate; whatever it raises on its arguments, as one line."""
    try:
        with _quiet_hydra():
            return hydra.utils.instantiate({TARGET: path}, **arguments, _convert_="all")
    except Exception as error:
        raise ConfigError(f"{what} _target_ {path!r}: bad argument(s) {arguments}: {_reason(error)}") from None
