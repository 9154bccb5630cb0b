"""compile / fit / evaluate / predict: article 000's walkthrough of the Keras training API.

Arms: sparse vs one-hot categorical cross-entropy (same task and seed: the curves must match), Adam given
as a string vs as an object with learning_rate, validation_split=0.2 (the last 20% before shuffling) vs
validation_data, binary cross-entropy with a sigmoid output on a two-class subset, and mean squared error
on a regression target (the fraction of pixels brighter than 0.5). All use EarlyStopping(patience=3,
restore_best_weights=True) and ModelCheckpoint(save_best_only) writing best_model.keras.
The article's claims: the sparse and one-hot losses are mathematically the same; validation_split=0.2
holds out 20% of the training data; predict + argmax gives the predicted classes.
"""
from studies.contract import Claim, Column, Figure

FIGURES = (
    Figure("curves", metric="loss", splits=("train", "val", "test"), panel_per_arm=True, mark_stop=True,
           ylabel="loss (each arm's own loss)", title="Learning curves: loss and validation loss (article 000)"),
)

SUMMARY = (
    Column("train samples", metric="", split="train", point="size"),
    Column("validation samples", metric="", split="val", point="size"),
    Column("test samples", metric="", split="test", point="size"),
    Column("stop epoch", metric="loss", split="val", point="stop"),
    Column("evaluate() loss", metric="loss", split="test", point="evaluate"),
    Column("evaluate() accuracy", metric="accuracy", split="test", point="evaluate"),
    Column("predict+argmax accuracy", metric="predict_argmax_accuracy", split="test", point="evaluate"),
    Column("evaluate() MAE", metric="mean_absolute_error", split="test", point="evaluate"),
)

CLAIMS = (
    # "Mathematically the same": every epoch of every seed, bit for bit (tolerance 0); both engines give equal bits.
    Claim("sparse_equals_onehot", "Sparse and one-hot categorical cross-entropy give identical curves",
          metric="loss", split="train", point="curve", relation="identical", arms=("sparse_ce",),
          versus=("onehot_ce",)),
    Claim("sparse_equals_onehot_val", "... and identical validation losses", metric="loss", split="val",
          point="curve", relation="identical", arms=("sparse_ce",), versus=("onehot_ce",)),
)
