"""Dropout: article 001 §5.2 「ドロップアウト」 (compare_dropout.py).

The 5-layer ReLU MLP (glorot_uniform) on the first 10,000 training images, with Dropout(0.15) after each
hidden activation or without. SGD(0.01), batch 128, 300 epochs. The article reads one run per arm from its
figures of train and test accuracy: dropout keeps overfitting down. variant=book: the book's 300 images,
6 x Dense(100), He init, dropout ratio 0.2, 301 epochs: the gap narrows and training accuracy stays below 100%.
"""
from studies.config.contract import Claim, Column, Figure, Source
from studies.config.tuning import Tuning

ALL = ("original", "modern", "book")
LESS_OVERFITTING = Source("article 001", "§5.2.2, the figures of accuracy with and without dropout",
                          "図から、ドロップアウトを適用したモデルは、ドロップアウトを適用しないモデルよりも、過学習を抑えられていることがわかります。",
                          "From the figures, the model with dropout keeps overfitting down better than the model "
                          "without it.",
                          "one run per arm, train and test accuracy over 300 epochs (the article's figures show "
                          "accuracy only); here the final train-test accuracy gap")
OURS = Source("article 001", "§5.2.2, the same sentence, read on the loss",
              "図から、ドロップアウトを適用したモデルは、ドロップアウトを適用しないモデルよりも、過学習を抑えられていることがわかります。",
              "From the figures, the model with dropout keeps overfitting down better than the model without it.",
              "the article shows no loss curves: this reading of 'overfitting' as a rising test loss is ours",
              says="ours")
BOOK = Source("the book behind article 001", "§6.4.3, Fig. 6-23", "",
              "With Dropout the gap between train and test accuracy has become smaller, and training accuracy no "
              "longer reaches 100%.",
              "one run per arm over 300 epochs; here the final gap, and each run's final train accuracy below 1",
              says="book", verbatim=False)

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "test"), ylabel="accuracy (fraction correct)",
           title="Train and test accuracy with and without dropout (article 001 §5.2.2)", panel_per_arm=True,
           variants=ALL),
    Figure("loss", metric="loss", splits=("train", "test"), ylabel="loss (categorical cross-entropy)",
           title="Train and test loss with and without dropout", panel_per_arm=True, variants=ALL),
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
WHY = "one point of accuracy, what the eye resolves on the article's 0-1 accuracy axis"

CLAIMS = (
    Claim("narrower_gap", "Dropout reduces overfitting: a smaller train-test accuracy gap after 300 epochs",
          metric="accuracy", split="train-test", point="final", relation="<", arms=("dropout",),
          versus=("no_dropout",), tolerance=NEGLIGIBLE_ACCURACY, source=LESS_OVERFITTING, why_tolerance=WHY),
    Claim("lower_test_loss", "Ours: dropout gives a lower test loss after 300 epochs", metric="loss", split="test",
          point="final", relation="<", arms=("dropout",), versus=("no_dropout",), tolerance=NEGLIGIBLE_LOSS,
          source=OURS, why_tolerance="0.02 nats, about 3% of the final test loss (0.6 to 0.9)"),
    Claim("book_narrower_gap", "The book: dropout narrows the train-test accuracy gap", metric="accuracy",
          split="train-test", point="final", relation="<", arms=("dropout",), versus=("no_dropout",),
          tolerance=NEGLIGIBLE_ACCURACY, variants=("book",), source=BOOK, why_tolerance=WHY),
    Claim("book_train_accuracy_below_100", "The book: with dropout training accuracy does not reach 100%",
          metric="accuracy", split="train", point="final", relation="runs_below", arms=("dropout",), value=1.0,
          at_least=0.5, variants=("book",), source=BOOK,
          why_tolerance="below 1: any run short of every training image right"),
)

# beyond=tuning: the dropout rate of the dropout arm (a rate: its grid is spaced on the odds, staying in [0, 1);
# the other arm has none to tune), chosen on the final validation accuracy.
TUNING = Tuning("model.dropout_rate", article={"dropout": 0.15}, metric="accuracy", point="final", rate=True)
