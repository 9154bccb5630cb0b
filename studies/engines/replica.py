"""`ReplicaModel`: what Keras callbacks use of a model, for one replica of a `Stack`.

The real `keras.callbacks.EarlyStopping` and `ModelCheckpoint` drive it, so per-replica early stopping
and best-model saving follow Keras's own code. Weights set by a callback (restore_best_weights) become
the replica's final weights; `stop` fixes them at the stop epoch while the rest of the stack trains on.
"""
from __future__ import annotations

import keras
import numpy as np

from studies.runtime.keras_internals import compiled_metrics

# Callbacks known to need nothing of a model beyond what ReplicaModel offers, and only the hooks a stack calls
# (on_train_begin, on_epoch_end, on_train_end). Another callback may read or set what a replica lacks (the
# optimizer, layers, per-batch logs), so engine=fast does not run it (studies/engines/fast.py).
REPLICA_CALLBACKS = (keras.callbacks.EarlyStopping, keras.callbacks.ModelCheckpoint)


class ReplicaModel:
    def __init__(self, stack, index: int, keras_model):
        self.stack, self.index, self.keras_model = stack, index, keras_model
        self.metrics = [compiled_metrics(stack.metric_objects)]  # EarlyStopping(mode="auto") reads their direction
        self.stop_training = False  # set by EarlyStopping
        self.stopped, self.stop_epoch = False, 0
        self.final_weights = None
        self.artifacts = []

    def get_weights(self) -> list:
        if self.final_weights is not None:
            return [np.copy(w) for w in self.final_weights]
        return self.stack.replica_weights(self.index)

    def set_weights(self, weights: list) -> None:
        self.final_weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True, **options) -> None:
        self.keras_model.set_weights(self.get_weights())
        self.keras_model.save(filepath, overwrite=overwrite, **options)

    def stop(self, epochs_run: int) -> None:
        self.stopped, self.stop_epoch = True, epochs_run
        if self.final_weights is None:
            self.final_weights = self.stack.replica_weights(self.index)

    def restore_final(self) -> None:
        """Put the replica's final weights back into the stack, for the final evaluation."""
        self.stack.set_replica_weights(self.index, self.final_weights)
