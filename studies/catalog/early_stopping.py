"""Early stopping: article 001 §5.3 「Early Stopping」 (compare_early_stopping.py).

The dropout model of §5.2 (Dropout(0.15), ReLU) on the first 10,000 training images, SGD(0.01), batch 128,
up to 100 epochs, with EarlyStopping(patience=2) on val_loss (the test set) or without.
The article's claims: with early stopping training halts at about epoch 40, before overfitting; without
it, overfitting starts at about epoch 60.
"""
from studies.contract import Claim, Column, Figure

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "test"), ylabel="accuracy (fraction correct)",
           title="Train and test accuracy with and without early stopping (article 001 §5.3.2)",
           panel_per_arm=True, mark_stop=True),
    Figure("loss", metric="loss", splits=("train", "test"), ylabel="loss (categorical cross-entropy)",
           title="Train and test loss with and without early stopping", panel_per_arm=True, mark_stop=True),
)

SUMMARY = (
    Column("stop epoch", metric="loss", split="test", point="stop"),
    Column("epoch of lowest test loss", metric="loss", split="test", point="best_epoch"),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
    Column("final test loss", metric="loss", split="test", point="final"),
)

# Both numbers are where the article's single run stopped or turned: one draw of an epoch that varies from seed
# to seed. The claim is about its typical value, so it is judged on the mean (approx: TOST against the window),
# not run by run: the article says nothing of how widely the epoch spreads.
CLAIMS = (
    Claim("stops_near_40", "EarlyStopping(patience=2) halts training near epoch 40", metric="loss", split="test",
          point="stop", relation="approx", arms=("early_stopping",), value=40, tolerance=10, article_value="40",
          article_marks=(("early_stopping", 40),)),
    Claim("overfits_from_60", "Without early stopping, overfitting (rising test loss) starts near epoch 60",
          metric="loss", split="test", point="best_epoch", relation="approx", arms=("no_early_stopping",),
          value=60, tolerance=15, article_value="60", article_marks=(("no_early_stopping", 60),)),
)
