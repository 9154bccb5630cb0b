"""Targets as the loss expects them and classes as predictions give them: shared by both engines."""
from __future__ import annotations

import keras
import numpy as np


def encode_targets(targets: np.ndarray, loss: str, classes: int) -> np.ndarray:
    """One-hot for categorical cross-entropy (as the originals did with to_categorical), integers for the
    sparse loss, a float column for binary cross-entropy and regression."""
    if loss == "categorical_crossentropy":
        return keras.utils.to_categorical(targets, classes).astype(np.float32)
    if loss == "sparse_categorical_crossentropy":
        return targets
    return targets.astype(np.float32).reshape(-1, 1)


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """predict + argmax, as article 000 does it; a single sigmoid unit is thresholded at 0.5."""
    if probabilities.shape[1] == 1:
        return (probabilities[:, 0] > 0.5).astype(np.int64)
    return np.argmax(probabilities, axis=1)
