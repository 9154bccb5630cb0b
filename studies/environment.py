"""Where a trial ran: library versions and the device, recorded with every trial."""
from __future__ import annotations

import functools
import platform


@functools.lru_cache(maxsize=1)
def versions() -> dict:
    import keras
    import numpy
    import tensorflow

    return {"python": platform.python_version(), "tensorflow": tensorflow.__version__,
            "keras": keras.__version__, "keras_backend": keras.backend.backend(), "numpy": numpy.__version__}


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
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
        return "GPU: " + ", ".join(names)
    return f"CPU: {cpu_model()}"
