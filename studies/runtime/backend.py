"""How a run runs: the same bits for a seed (TensorFlow's determinism, reductions in XLA's own loops) and a quiet
start of Keras's backend. Set up before anything trains or compiles; what ran is recorded by
studies/runtime/provenance.py."""
from __future__ import annotations

import functools
import os

from studies.config.settings import ConfigError

# XLA:CPU hands a reduction (a sum, maximum or minimum over some axes: a bias's gradient over the batch, softmax's
# sums over the classes) to YNNPACK once its tensor has enough elements (32768 in TensorFlow 2.21's XLA, 4096 in
# jaxlib 0.10.2's), and YNNPACK adds in another order than XLA's own loops. A stack's tensors hold all its
# replicas, so a replica's sums would round differently once its stack grew past that size (fit_basics's stack
# of 10 did). Reductions stay in XLA's loops: on TensorFlow for the process (`deterministic_ops`), on JAX for
# the stacks' programs (studies.engines.stack_jax), leaving model.fit's as they were.
YNN_FUSIONS = "xla_cpu_experimental_ynn_fusion_type"
NO_YNN_REDUCTIONS = f"--{YNN_FUSIONS}=-reduce"


def deterministic_ops() -> None:
    """Seed s gives the same curves bit for bit: TensorFlow needs asking (before its first XLA compilation);
    XLA under JAX is so on CPU. On another backend, TensorFlow stays unimported (`keep_tensorflow_out`)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        keep_tensorflow_out()
    else:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        tf.get_logger().setLevel("ERROR")  # engine fast traces once per stack and batch shape: not a retracing bug
        reductions_in_xla_loops()


def keep_tensorflow_out() -> None:
    """Tell Keras, on a backend other than TensorFlow, that TensorFlow is not installed, unless something imported
    it already. Keras imports it wherever it is installed, only to ask whether an object is one of its types
    (serializing a layer's config, its data adapters) or to seed it (`keras.utils.set_random_seed`): seconds of
    start-up and TensorFlow's C++ lines on the terminal, once per process, for nothing a JAX run uses."""
    from studies.runtime.keras_internals import declare_tensorflow_absent  # imports Keras: not at the CLI's start

    declare_tensorflow_absent()


def reductions_in_xla_loops() -> None:
    """No YNNPACK reductions (YNN_FUSIONS): TensorFlow has no per-program XLA options, and its XLA reads XLA_FLAGS
    once, at the process's first XLA compilation. Left alone where XLA_FLAGS already names YNNPACK fusions, and
    before TensorFlow 2.21: an XLA that does not know a flag in XLA_FLAGS stops the process. Nothing on JAX (its
    stacks' programs carry their own options), where TensorFlow may be absent."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    flags = os.environ.get("XLA_FLAGS", "")
    if YNN_FUSIONS not in flags and tuple(map(int, tf.__version__.split(".")[:2])) >= (2, 21):
        os.environ["XLA_FLAGS"] = f"{flags} {NO_YNN_REDUCTIONS}".strip()


@functools.cache
def require_reductions_in_xla_loops() -> None:
    """Refuse (ConfigError: the run stops) stacks whose replicas' sums would depend on the stack's size: XLA_FLAGS
    came too late (XLA compiled something before `reductions_in_xla_loops`) or chose YNNPACK reductions. Checked
    once per process, on the CPU, by summing 8 x 32 x 128 values (past TensorFlow 2.21's YNNPACK threshold) and
    their first 32 x 128 alone: XLA's own loops give the first replica the same bits both ways, YNNPACK does not."""
    import numpy as np
    import tensorflow as tf

    values = np.random.default_rng(0).standard_normal((8, 32, 128)).astype(np.float32)
    with tf.device("/CPU:0"):
        total = tf.function(lambda tensor: tf.reduce_sum(tensor, axis=1), jit_compile=True)
        alone, stacked = total(tf.constant(values[:1])).numpy()[0], total(tf.constant(values)).numpy()[0]
    if not np.array_equal(alone, stacked):
        raise ConfigError(
            f"XLA sums a replica's values differently in a stack than alone "
            f"(XLA_FLAGS={os.environ.get('XLA_FLAGS')!r} came after XLA's first compilation in this process, or chose "
            f"YNNPACK reductions), so a trial's bits would depend on its stack: start Python with "
            f"XLA_FLAGS={NO_YNN_REDUCTIONS}, or run engine=fast before compiling anything else with XLA")


def import_backend_quietly() -> None:
    """Import Keras's backend (TensorFlow unless KERAS_BACKEND says otherwise) with its C++ start-up lines
    (oneDNN, CUDA probing) kept off the terminal.

    TF 2.2x prints them through absl before TF_CPP_MIN_LOG_LEVEL applies; they are shown only if the
    import fails, or always with TF_CPP_MIN_LOG_LEVEL=0.
    """
    import os
    import sys
    import tempfile

    other_backend = os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow"
    if other_backend or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") == "0":
        import keras  # noqa: F401
        return
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
            tensorflow.config.list_physical_devices()  # CUDA probing prints here too
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
