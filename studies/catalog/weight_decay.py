"""Weight decay: article 001 §5.1 「Weight decay」 (compare_weight_decay.py).

The batch-norm model of §4 (N(0, 0.01) init) on the first 30,000 training images, with l2(0.1) on the four
hidden kernels or without. SGD(0.01), batch 128, 15 epochs.
The article's claim: test accuracy swings up and down either way, but weight decay keeps training accuracy
from running away, i.e. it reduces overfitting. variant=book: the book's 300 images, 6 x Dense(100), He init,
lambda = 0.1 on every layer, 201 epochs: the train-test gap narrows.
"""
from studies.contract import Claim, Column, Figure

ALL = ("original", "modern", "book")

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "test"), ylabel="accuracy (fraction correct)",
           title="Train and test accuracy with and without weight decay (article 001 §5.1.2)", panel_per_arm=True,
           variants=ALL),
)

SUMMARY = (
    Column("final train accuracy", metric="accuracy", split="train", point="final", variants=ALL),
    Column("final test accuracy", metric="accuracy", split="test", point="final", variants=ALL),
    Column("final train-test gap", metric="accuracy", split="train-test", point="final", variants=ALL),
)

NEGLIGIBLE_ACCURACY = 0.01  # one point of accuracy (or of the gap), the precision the article quotes

CLAIMS = (
    Claim("lower_train_accuracy", "Weight decay holds training accuracy down", metric="accuracy", split="train",
          point="final", relation="<", arms=("weight_decay",), versus=("no_weight_decay",),
          tolerance=NEGLIGIBLE_ACCURACY, variants=ALL),
    Claim("narrower_gap", "Weight decay narrows the train-test accuracy gap", metric="accuracy",
          split="train-test", point="final", relation="<", arms=("weight_decay",), versus=("no_weight_decay",),
          tolerance=NEGLIGIBLE_ACCURACY, variants=ALL),
)
