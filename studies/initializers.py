"""Weight initialisation: article 001 §2 「重みの初期化」 (compare_initializer.py; the book's pp. 184-186).

The 5-layer MLP with ReLU hidden layers, SGD(0.01), batch 128, 15 epochs, Fashion-MNIST; the hidden kernels
start from Xavier (glorot_uniform, Keras's default), He (he_uniform) or N(0, 0.01).
The article's claim: with ReLU, He initialisation converges fastest; N(0, 0.01) does not learn at all.
"""
from studies.contract import Claim, Column, Figure

FIGURES = (
    Figure("loss", metric="loss", splits=("train",), ylabel="train loss (categorical cross-entropy)",
           title="Training loss by weight initialisation (article 001 §2.2)"),
)

SUMMARY = (
    Column("final train loss", metric="loss", split="train", point="final"),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
)

CLAIMS = (
    Claim("he_best", "With ReLU, He initialisation reaches the lowest train loss", metric="loss", split="train",
          point="final", relation="lowest", arms=("he_uniform",), versus=("glorot_uniform", "normal_0_01")),
    Claim("normal_does_not_learn", "With N(0, 0.01) the loss stays at chance level, ln 10 = 2.303",
          metric="loss", split="train", point="final", relation="approx", arms=("normal_0_01",),
          value=2.303, tolerance=0.01),
)
