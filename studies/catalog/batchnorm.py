"""Batch normalization: article 001 §4 「バッチ正規化」 (compare_batch_norm.py; the book's pp. 186-189).

The 5-layer ReLU MLP with every hidden kernel drawn from N(0, 0.01), with BatchNormalization between each
hidden Dense and its ReLU, or without. SGD(0.01), batch 128, 15 epochs, Fashion-MNIST.
The article's claim: with batch norm even this poor initialisation learns properly (without it, §2 showed,
it does not learn). variant=book: the book's grid (ch06/batch_norm_test.py, Fig. 6-19) of 16 weight scales
w (N(0, w^2) on every layer), with and without the book's batch norm (momentum 0.9, epsilon 1e-6, moving
statistics from zero), on 1,000 MNIST images, 100 drawn with replacement per step, the same batches for both;
its "training accuracy" is the whole 1,000 images evaluated in inference mode after every 10 steps (split
train_eval; the book's 20 points come after steps 1, 11, ..., 191, these after 10, 20, ..., 200).
The book: batch norm learns faster in almost every case, and without it a poor scale does not learn at all.
"""
from studies.contract import Claim, Column, Figure

BOOK_SCALES = (1.0, 0.54117, 0.292864, 0.158489, 0.0857696, 0.0464159, 0.0251189, 0.0135936, 0.00735642,
               0.00398107, 0.00215443, 0.00116591, 0.000630957, 0.000341455, 0.000184785, 0.0001)  # the yaml's grid

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train",), ylabel="train accuracy (fraction correct)",
           title="Training accuracy with and without batch norm, N(0, 0.01) init (article 001 §4.2)"),
    Figure("accuracy_grid", metric="accuracy", splits=("train_eval",),
           ylabel="train accuracy (all images, inference mode)", panel_by="stddev",
           title="Training accuracy by initial weight scale, with and without batch norm (the book, Fig. 6-19)",
           variants=("book",)),
)

SUMMARY = (
    Column("final train accuracy", metric="accuracy", split="train", point="final"),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
    Column("final train accuracy (inference mode)", metric="accuracy", split="train_eval", point="final",
           variants=("book",)),
)

NEGLIGIBLE_ACCURACY = 0.01  # one point of accuracy, the precision the articles quote: orderings FAIL below it

# "Stays near chance" is said of what a run does, so it is judged run by run (runs_near): a mean near 10% could
# hide a run that learned late. Final accuracy: a run that escaped chance does not fall back under SGD.
CLAIMS = (
    Claim("batchnorm_learns", "With batch norm, the N(0, 0.01) network learns: higher train accuracy",
          metric="accuracy", split="train", point="final", relation=">", arms=("batch_norm",),
          versus=("no_batch_norm",), tolerance=NEGLIGIBLE_ACCURACY),
    Claim("no_batchnorm_chance", "Without batch norm it stays near chance (10% accuracy)", metric="accuracy",
          split="train", point="final", relation="runs_near", arms=("no_batch_norm",), value=0.10, tolerance=0.02),
) + tuple(
    Claim(f"book_batchnorm_learns_at_{scale}",
          f"The book: batch norm learns faster in almost every case; here weight scale {scale}",
          metric="accuracy", split="train_eval", point="final", relation=">", arms=(f"stddev={scale},batch_norm=True",),
          versus=(f"stddev={scale},batch_norm=False",), tolerance=NEGLIGIBLE_ACCURACY, variants=("book",))
    for scale in BOOK_SCALES
)
