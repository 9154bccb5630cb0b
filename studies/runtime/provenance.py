"""What ran: library versions, the device and the project's commit, recorded with every trial and report.
(How a run is set up, determinism and XLA's flags, is studies/runtime/backend.py.)"""
from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path

# What a report's numbers depend on; reports/ is left out, since a reproduction rewrites it while it runs.
SOURCE_PATHS = ("studies", "conf", "pyproject.toml", "Makefile")
REPORT_LIBRARIES = ("pandas", "scipy", "matplotlib", "seaborn")
BACKEND_LIBRARIES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib")}


@functools.lru_cache(maxsize=1)
def versions() -> dict:
    """Python, Keras and its running backend's libraries (tensorflow, or jax and jaxlib), NumPy."""
    import keras
    import numpy

    backend = keras.backend.backend()
    libraries = {name: importlib.metadata.version(name) for name in BACKEND_LIBRARIES.get(backend, ())}
    return {"python": platform.python_version(), **libraries, "keras": keras.__version__, "keras_backend": backend,
            "numpy": numpy.__version__}


def report_versions() -> dict:
    """The libraries that turn stored trials into statistics and figures (training's are stored per trial)."""
    return {name: importlib.metadata.version(name) for name in REPORT_LIBRARIES}


def _git(*arguments: str) -> str:
    root = Path(__file__).resolve().parents[2]  # the checkout: SOURCE_PATHS are relative to it
    return subprocess.run(["git", *arguments], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def commit() -> str:
    """The project's short commit hash, "+dirty" when its sources have uncommitted changes; "unknown"
    outside a git checkout or without git."""
    try:
        head, changes = _git("rev-parse", "--short", "HEAD"), _git("status", "--porcelain", "--", *SOURCE_PATHS)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if changes else "")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def device() -> str:
    """The accelerator Keras's backend trains on ("GPU: name, ..."), else "CPU: model"."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        gpus = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    else:
        import tensorflow as tf

        gpus = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
                for gpu in tf.config.list_physical_devices("GPU")]
    return "GPU: " + ", ".join(gpus) if gpus else f"CPU: {cpu_model()}"
