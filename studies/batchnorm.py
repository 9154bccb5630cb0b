"""Batch normalization: article 001 §4 「バッチ正規化」 (compare_batch_norm.py; the book's pp. 186-189).

The 5-layer ReLU MLP with every hidden kernel drawn from N(0, 0.01), with BatchNormalization between each
hidden Dense and its ReLU, or without. SGD(0.01), batch 128, 15 epochs, Fashion-MNIST.
The article's claim: with batch norm even this poor initialisation learns properly (without it, §2 showed,
it does not learn). variant=book: the book's grid of 16 weight scales, with and without batch norm, on
1,000 images: batch norm learns faster at almost every scale.
"""
from studies.contract import Claim, Column, Figure

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train",), ylabel="train accuracy (fraction correct)",
           title="Training accuracy with and without batch norm, N(0, 0.01) init (article 001 §4.2)"),
    Figure("accuracy_grid", metric="accuracy", splits=("train",), ylabel="train accuracy", panel_by="stddev",
           title="Training accuracy by initial weight scale, with and without batch norm (the book, Fig. 6-19)",
           variants=("book",)),
)

SUMMARY = (
    Column("final train accuracy", metric="accuracy", split="train", point="final",
           variants=("original", "modern", "book")),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
)

CLAIMS = (
    Claim("batchnorm_learns", "With batch norm, the N(0, 0.01) network learns: higher train accuracy",
          metric="accuracy", split="train", point="final", relation=">", arms=("batch_norm",),
          versus=("no_batch_norm",)),
    Claim("no_batchnorm_chance", "Without batch norm it stays near chance (10% accuracy)", metric="accuracy",
          split="train", point="final", relation="approx", arms=("no_batch_norm",), value=0.10, tolerance=0.02),
) + tuple(
    Claim(f"book_batchnorm_learns_at_{scale}", f"The book: with batch norm, learning is faster at weight scale {scale}",
          metric="accuracy", split="train", point="final", relation=">", arms=(f"stddev={scale},batch_norm=True",),
          versus=(f"stddev={scale},batch_norm=False",), variants=("book",))
    for scale in (1.0, 0.00735642, 0.0001)
)
