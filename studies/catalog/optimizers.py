"""Optimizers: article 001 §1 「最適化アルゴリズム」 (compare_optimizer.py; the book's pp. 176-178).

A 5-layer sigmoid MLP (4 x Dense(100) + softmax) on Fashion-MNIST, batch 128, 15 epochs, trained with
SGD(0.1), Adagrad(0.1), Adadelta(0.1), Adam() and Nadam(), plus RMSprop() from article 000's table.
The article's claim: SGD and Adadelta converge more slowly than Adam, Nadam and Adagrad, and Nadam
converges fastest of the five. variant=book: the book's own comparison (pp. 176-178) of SGD, Momentum,
AdaGrad and Adam over 2,000 iterations, where SGD is the slowest. variant=cnn: the original arms on a
small LeNet-like CNN instead of the MLP, asking whether the article's orderings carry over.
"""
from studies.contract import VARIANTS, Claim, Column, Figure

ARTICLE = (*VARIANTS, "cnn")  # the article's arms: its own MLP, in both Keras versions, and the CNN

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
    Column("final test accuracy", metric="accuracy", split="test", point="final", variants=ARTICLE),
    Column("best test accuracy", metric="accuracy", split="test", point="best", variants=ARTICLE),
)

# Orderings FAIL by equivalence below this train-loss difference: 0.01 nats is a line's width on the article's
# loss plot (0 to 2.3), and the size of one optimizer's seed-to-seed sd (0.003 to 0.025 in the committed runs).
NEGLIGIBLE_LOSS = 0.01

CLAIMS = (
    Claim("nadam_fastest", "Nadam reaches the lowest train loss of the five optimizers by epoch 15",
          metric="loss", split="train", point="final", relation="lowest",
          arms=("nadam",), versus=("sgd", "adagrad", "adadelta", "adam"), tolerance=NEGLIGIBLE_LOSS, variants=ARTICLE),
    Claim("sgd_slower", "SGD converges more slowly than Adam, Nadam and Adagrad",
          metric="loss", split="train", point="final", relation=">",
          arms=("sgd",), versus=("adam", "nadam", "adagrad"), tolerance=NEGLIGIBLE_LOSS, variants=ARTICLE),
    Claim("adadelta_slower", "Adadelta converges more slowly than Adam, Nadam and Adagrad",
          metric="loss", split="train", point="final", relation=">",
          arms=("adadelta",), versus=("adam", "nadam", "adagrad"), tolerance=NEGLIGIBLE_LOSS, variants=ARTICLE),
    Claim("book_sgd_slowest", "The book: SGD learns slowest of SGD, Momentum, AdaGrad and Adam",
          metric="loss", split="train", point="final", relation="highest", arms=("sgd",),
          versus=("momentum", "adagrad", "adam"), tolerance=NEGLIGIBLE_LOSS, variants=("book",)),
)
