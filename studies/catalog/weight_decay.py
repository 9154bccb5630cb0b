"""Weight decay: article 001 §5.1 「Weight decay」 (compare_weight_decay.py).

The batch-norm model of §4 (N(0, 0.01) init) on the first 30,000 training images, with l2(0.1) on the four
hidden kernels or without. SGD(0.01), batch 128, 15 epochs. The article reads one run per arm: test accuracy
swings up and down either way, while weight decay keeps training accuracy from running away. variant=book: the
book's 300 images, 6 x Dense(100), He init, lambda = 0.1 on every layer, 201 epochs: the train-test gap
narrows and training accuracy no longer reaches 100%.
"""
from studies.config.contract import Claim, Column, Figure, Source
from studies.config.tuning import Tuning

ALL = ("original", "modern", "book")
SWINGS = Source("article 001", "§5.1.2, the figures of accuracy with and without weight decay",
                "図より、Weigth decayの有無を問わず、テスト精度はかなり乱高下していることがわかります。",
                "From the figures, with or without weight decay, the test accuracy swings up and down considerably.",
                "one run per arm, test accuracy over 15 epochs read by eye; here how often it falls by more than "
                "one point from one epoch to the next (at least twice: it swings)")
TRAIN = Source("article 001", "§5.1.2, the same figures",
               "一方で、訓練精度については、Weight decayを用いることで、過学習が抑制されていることがわかります。",
               "On the other hand, as for training accuracy, using weight decay keeps overfitting down.",
               "one run per arm, train accuracy over 15 epochs; here the final train accuracy, lower with weight decay")
BOOK_GAP = Source("the book behind article 001", "§6.4.2, Fig. 6-21 against Fig. 6-20", "",
                  "A gap between train and test accuracy remains, but it is smaller than without weight decay; "
                  "training accuracy does not reach 100%.",
                  "one run per arm over 200 epochs; here the final train-test accuracy gap, and each run's final "
                  "train accuracy below 1", says="book", verbatim=False)

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "test"), ylabel="accuracy (fraction correct)",
           title="Train and test accuracy with and without weight decay (article 001 §5.1.2)", panel_per_arm=True,
           variants=ALL),
)

SUMMARY = (
    Column("final train accuracy", metric="accuracy", split="train", point="final", variants=ALL),
    Column("final test accuracy", metric="accuracy", split="test", point="final", variants=ALL),
    Column("final train-test gap", metric="accuracy", split="train-test", point="final", variants=ALL),
    Column("falls of test accuracy by > 1 point", metric="accuracy", split="test", point="falls"),
)

NEGLIGIBLE_ACCURACY = 0.01  # one point of accuracy (or of the gap), the precision the article quotes
WHY = "one point of accuracy, what the eye resolves on the article's 0-1 accuracy axis"
SWING_WHY = "a fall counts when larger than one point (visible on a 0-1 axis); 'swings' is at least two falls"

CLAIMS = (
    Claim("test_accuracy_swings_with_decay", "With weight decay, test accuracy swings up and down (most runs)",
          metric="accuracy", split="test", point="falls", relation="runs_above", arms=("weight_decay",), value=1,
          at_least=0.5, source=SWINGS, why_tolerance=SWING_WHY),
    Claim("test_accuracy_swings_without_decay", "Without weight decay too (most runs)", metric="accuracy",
          split="test", point="falls", relation="runs_above", arms=("no_weight_decay",), value=1, at_least=0.5,
          source=SWINGS, why_tolerance=SWING_WHY),
    Claim("lower_train_accuracy", "Weight decay holds training accuracy down", metric="accuracy", split="train",
          point="final", relation="<", arms=("weight_decay",), versus=("no_weight_decay",),
          tolerance=NEGLIGIBLE_ACCURACY, source=TRAIN, why_tolerance=WHY),
    Claim("book_narrower_gap", "The book: weight decay narrows the train-test accuracy gap", metric="accuracy",
          split="train-test", point="final", relation="<", arms=("weight_decay",), versus=("no_weight_decay",),
          tolerance=NEGLIGIBLE_ACCURACY, variants=("book",), source=BOOK_GAP, why_tolerance=WHY),
    Claim("book_train_accuracy_below_100", "The book: with weight decay training accuracy does not reach 100%",
          metric="accuracy", split="train", point="final", relation="runs_below", arms=("weight_decay",), value=1.0,
          at_least=0.5, variants=("book",), source=BOOK_GAP,
          why_tolerance="below 1: any run short of every training image right"),
)

# beyond=tuning: the L2 strength of the decayed arm (the other arm has none to tune: it runs as declared), chosen
# on the final validation accuracy.
TUNING = Tuning("model.kernel_regularizer.l2", article={"weight_decay": 0.1}, metric="accuracy", point="final")
