"""Early stopping: article 001 §5.3 「Early Stopping」 (compare_early_stopping.py).

The dropout model of §5.2 (Dropout(0.15), ReLU) on the first 10,000 training images, SGD(0.01), batch 128,
up to 100 epochs, with EarlyStopping(patience=2) on val_loss (the test set) or without. The article reads one
run per arm off its accuracy figures: with early stopping training halts at epoch 40 with no overfitting to
be seen; without it, overfitting shows from about epoch 60 (train accuracy pulling away from test accuracy:
`separation_epoch`, studies/config/features.py). Both numbers are one run's: each is judged as a single run (is the
article's run a plausible one of ours?), not as the mean of many.
"""
from studies.config.contract import Claim, Column, Figure, NotJudged, Source
from studies.config.tuning import NotTuned

STOPS = Source("article 001", "§5.3.2, the figures of accuracy with and without early stopping",
               "図より、Early Stoppingを適用したときには、40エポックで学習が停止し、過学習している様子は読み取れません。",  # noqa: E501 (a quotation, kept whole)
               "From the figures, with early stopping training stopped at epoch 40, and no overfitting can be seen.",
               "one run; the stop epoch read off the figure's x axis; 'no overfitting': its train and test "
               "accuracy curves have not parted")
OVERFITS = Source("article 001", "§5.3.2, the same figures",
                  "一方で、Early Stoppingを適用しなかったときには、60エポックあたりから過学習の傾向が読み取れます。",
                  "On the other hand, without early stopping, a tendency to overfit can be seen from around epoch 60.",
                  "one run; the epoch from which train accuracy pulls away from test accuracy, read by eye off a "
                  "100-epoch axis")
AXIS_WHY = "half a tick of a 100-epoch axis with ticks every 10 (or 20): the article reads the epoch off its figure"

PATIENCE = Source("article 001", "§5.3.1, the EarlyStopping example",
                  "この例では、2エポックの間、テストデータに対する損失関数の値に改善が見られないと、学習が停止するように設定されています。",
                  "In this example, training is set to stop when the loss on the test data shows no improvement for "
                  "2 epochs.", "no run; here, in every run that stopped, the stop epoch minus the epoch of the best "
                               "test loss")
NOT_JUDGED = (
    NotJudged(Source("article 001", "§5.3", "これにより、無駄な計算機リソースの消費防止にも繋がります。",
                     "This also helps avoid wasting computing resources.", "nothing"),
              "follows from stopping early: fewer epochs are fewer computations (the stop epoch is judged)"),
)

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "test"), ylabel="accuracy (fraction correct)",
           title="Train and test accuracy with and without early stopping (article 001 §5.3.2)",
           panel_per_arm=True, mark_stop=True),
    Figure("loss", metric="loss", splits=("train", "test"), ylabel="loss (categorical cross-entropy)",
           title="Train and test loss with and without early stopping", panel_per_arm=True, mark_stop=True),
)

SUMMARY = (
    Column("stop epoch", metric="loss", split="test", point="stop"),
    Column("epoch train and test accuracy part", metric="accuracy", split="train-test", point="separation_epoch"),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
    Column("final test loss", metric="loss", split="test", point="final"),
)

CLAIMS = (
    Claim("stops_at_40", "EarlyStopping(patience=2) halts training at epoch 40 (the article's run)", metric="loss",
          split="test", point="stop", relation="typical", arms=("early_stopping",), value=40, tolerance=5,
          article_value="40", article_marks=(("early_stopping", 40),), source=STOPS, why_tolerance=AXIS_WHY),
    Claim("no_overfitting_when_stopped", "With early stopping no overfitting is seen: train and test accuracy have "
          "not parted by the stop (most runs)", metric="accuracy", split="train-test", point="separated",
          relation="runs_near", arms=("early_stopping",), value=0, at_least=0.5, source=STOPS,
          why_tolerance="parted: train accuracy above test accuracy, 5-epoch average, to the end "
                        "(studies/config/features.py)"),
    Claim("stops_2_epochs_after_best", "EarlyStopping(patience=2) stops 2 epochs after the best test loss, in every "
          "run that stopped early", metric="loss", split="test", point="epochs_after_best", relation="every_run",
          arms=("early_stopping",), value=2, source=PATIENCE, why_tolerance="0: an API's behaviour, exact"),
    Claim("overfits_from_60", "Without early stopping, train and test accuracy part from about epoch 60 (the "
          "article's run)", metric="accuracy", split="train-test", point="separation_epoch", relation="typical",
          arms=("no_early_stopping",), value=60, tolerance=10, article_value="~60",
          article_marks=(("no_early_stopping", 60),), source=OVERFITS, why_tolerance=AXIS_WHY),
)

TUNING = NotTuned("its claims are about one early-stopping setting's stop epoch; the arm without has nothing to tune")
