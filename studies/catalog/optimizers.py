"""Optimizers: article 001 §1 「最適化アルゴリズム」 (compare_optimizer.py; the book's pp. 176-178).

A 5-layer sigmoid MLP (4 x Dense(100) + softmax) on Fashion-MNIST, batch 128, 15 epochs, trained with
SGD(0.1), Adagrad(0.1), Adadelta(0.1), Adam() and Nadam(), plus RMSprop() from article 000's table.
The article reads convergence off its figure of one run's train-loss curves; here "converges faster" is the
lower mean train loss over the 15 epochs (the area under the curve, studies/config/features.py). variant=book: the
book's own comparison (pp. 176-178) of SGD, Momentum, AdaGrad and Adam over 2,000 iterations. variant=cnn:
the original arms on a small LeNet-like CNN instead of the MLP, asking whether the orderings carry over.
"""
from studies.config.contract import VARIANTS, Claim, Column, Figure, NotJudged, Source
from studies.config.tuning import Tuning

ARTICLE = (*VARIANTS, "cnn")  # the article's arms: its own MLP, in both Keras versions, and the CNN
SLOWER = Source("article 001", "§1.3, the figure of train loss by optimizer",
                "図から、SGDとAdadeltaを用いたモデルは、Adam/Nadam/Adagradを用いたモデルよりも収束が遅いことがわかります。",
                "From the figure, the models using SGD and Adadelta converge more slowly than those using "
                "Adam/Nadam/Adagrad.",
                "one run per optimizer, its train-loss curve over 15 epochs read by eye; here the mean train loss "
                "over the 15 epochs")
FASTEST = Source("article 001", "§1.3, the same figure",
                 "また、この実験においては、Nadamが5つの最適化アルゴリズムの中で、最も収束の速いアルゴリズムであることがわかりました。",
                 "Also, in this experiment Nadam turned out to be the fastest-converging of the five optimization "
                 "algorithms.", "as above: the lowest train-loss curve, here the lowest mean train loss over 15 epochs")
BOOK = Source("the book behind article 001", "§6.1.8, Fig. 6-9 (MNIST, 2,000 iterations)", "",
              "SGD learns more slowly than Momentum, AdaGrad and Adam (its loss curve lies above theirs).",
              "one run, smoothed train loss per iteration; here the mean train loss over the 2,000 iterations",
              says="book", verbatim=False)

NOT_JUDGED = (
    NotJudged(Source("article 001", "§1.1",
                     "Fashion-MNISTは、MNISTの分類タスクが「簡単過ぎること」などを理由に、それを置き換える目的で作成されたデータセットです。",
                     "Fashion-MNIST is a dataset made to replace MNIST, because among other things MNIST's "
                     "classification task is 'too easy'.", "nothing"),
              "the dataset's history, quoted from its authors; no experiment of the article compares the two"),
    NotJudged(Source("article 001", "§1", "ニューラルネットワークに対して適用される最適化アルゴリズムはたくさん存在し、モデルに応じて使い分けることが、"  # noqa: E501 (a quotation, kept whole)
                     "その性能を引き出すために非常に重要となります。",
                     "Many optimization algorithms exist, and choosing among them for the model is very important to "
                     "bring out its performance.", "nothing"),
              "advice; §1.3's comparison is what the article measures (nadam_fastest, sgd_slower, adadelta_slower)"),
)

FIGURES = (
    Figure("loss", metric="loss", splits=("train",), ylabel="train loss (categorical cross-entropy)",
           title="Training loss by optimizer (article 001, Fig. 1.3)", variants=ARTICLE),
    Figure("accuracy", metric="accuracy", splits=("test",), ylabel="test accuracy (fraction correct)",
           title="Test accuracy by optimizer", variants=ARTICLE),
    Figure("loss_by_iteration", metric="loss", splits=("train",), ylabel="train loss (moving average of 11)",
           xlabel="iteration", smooth=11, title="Training loss by optimizer (the book, Fig. 6-9)", variants=("book",)),
)

SUMMARY = (
    Column("final train loss", metric="loss", split="train", point="final", variants=(*ARTICLE, "book")),
    Column("mean train loss over the run", metric="loss", split="train", point="mean", variants=(*ARTICLE, "book")),
    Column("final test accuracy", metric="accuracy", split="test", point="final", variants=ARTICLE),
)

# Orderings FAIL by equivalence below this train-loss difference: 0.01 nats is a line's width on the article's
# loss plot (0 to 2.3).
NEGLIGIBLE_LOSS = 0.01
WHY = "0.01 nats: a line's width on the article's 0-2.3 loss axis; a smaller difference no reader of it sees"

CLAIMS = (
    Claim("nadam_fastest", "Nadam converges fastest of the five: the lowest mean train loss over 15 epochs",
          metric="loss", split="train", point="mean", relation="lowest", arms=("nadam",),
          versus=("sgd", "adagrad", "adadelta", "adam"), tolerance=NEGLIGIBLE_LOSS, variants=ARTICLE, source=FASTEST,
          why_tolerance=WHY),
    Claim("sgd_slower", "SGD converges more slowly than Adam, Nadam and Adagrad", metric="loss", split="train",
          point="mean", relation=">", arms=("sgd",), versus=("adam", "nadam", "adagrad"), tolerance=NEGLIGIBLE_LOSS,
          variants=ARTICLE, source=SLOWER, why_tolerance=WHY),
    Claim("adadelta_slower", "Adadelta converges more slowly than Adam, Nadam and Adagrad", metric="loss",
          split="train", point="mean", relation=">", arms=("adadelta",), versus=("adam", "nadam", "adagrad"),
          tolerance=NEGLIGIBLE_LOSS, variants=ARTICLE, source=SLOWER, why_tolerance=WHY),
    Claim("book_sgd_slowest", "The book: SGD learns slowest of SGD, Momentum, AdaGrad and Adam", metric="loss",
          split="train", point="mean", relation="highest", arms=("sgd",), versus=("momentum", "adagrad", "adam"),
          tolerance=NEGLIGIBLE_LOSS, variants=("book",), source=BOOK, why_tolerance=WHY),
)

# beyond=tuning (studies/beyond/tuning.py): each optimizer's learning rate, the article's own at the grid's centre
# (Keras 2.2's defaults where the script left them: Adam and RMSprop 0.001, Nadam 0.002), chosen on the mean
# validation loss over the epochs, as the claims read convergence off the mean train loss.
TUNING = Tuning("optimizer.learning_rate", article={"sgd": 0.1, "adagrad": 0.1, "adadelta": 0.1, "adam": 0.001,
                                                    "nadam": 0.002, "rmsprop": 0.001},
                metric="loss", point="mean")
