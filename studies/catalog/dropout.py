"""Dropout: article 001 §5.2 「ドロップアウト」 (compare_dropout.py).

The 5-layer ReLU MLP (glorot_uniform) on the first 10,000 training images, with Dropout(0.15) after each
hidden activation or without. SGD(0.01), batch 128, 300 epochs.
The article's claim: the model with dropout overfits less than the one without. variant=book: the book's
300 images, 6 x Dense(100), He init, dropout ratio 0.2, 301 epochs.
"""
from studies.contract import Claim, Column, Figure

ALL = ("original", "modern", "book")

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "test"), ylabel="accuracy (fraction correct)",
           title="Train and test accuracy with and without dropout (article 001 §5.2.2)", panel_per_arm=True,
           variants=ALL),
    Figure("loss", metric="loss", splits=("train", "test"), ylabel="loss (categorical cross-entropy)",
           title="Train and test loss with and without dropout", panel_per_arm=True,
           variants=ALL),
)

SUMMARY = (
    Column("final train accuracy", metric="accuracy", split="train", point="final", variants=ALL),
    Column("final test accuracy", metric="accuracy", split="test", point="final", variants=ALL),
    Column("final train-test gap", metric="accuracy", split="train-test", point="final", variants=ALL),
    Column("final test loss", metric="loss", split="test", point="final", variants=ALL),
)

# Orderings FAIL by equivalence below one point of accuracy (the article's precision), or 0.02 of test loss,
# about 3% of the final test loss (0.6 to 0.9) whose seed-to-seed spread is far larger.
NEGLIGIBLE_ACCURACY, NEGLIGIBLE_LOSS = 0.01, 0.02

CLAIMS = (
    Claim("narrower_gap", "Dropout reduces overfitting: a smaller train-test accuracy gap after 300 epochs",
          metric="accuracy", split="train-test", point="final", relation="<", arms=("dropout",),
          versus=("no_dropout",), tolerance=NEGLIGIBLE_ACCURACY, variants=ALL),
    Claim("lower_test_loss", "Dropout reduces overfitting: a lower test loss after 300 epochs", metric="loss",
          split="test", point="final", relation="<", arms=("dropout",), versus=("no_dropout",),
          tolerance=NEGLIGIBLE_LOSS, variants=ALL),
)
