"""Weight initialisation: article 001 §2 「重みの初期化」 (compare_initializer.py; the book's pp. 184-186).

The 5-layer MLP with ReLU hidden layers, SGD(0.01), batch 128, 15 epochs, Fashion-MNIST; the hidden kernels
start from Xavier (glorot_uniform, Keras's default), He (he_uniform) or N(0, 0.01).
The article's claim: with ReLU, He initialisation converges fastest; N(0, 0.01) does not learn at all.
variant=book: the book's Gaussians N(0, 0.01^2), N(0, 1/n) and N(0, 2/n) over 2,000 iterations.
"""
from studies.contract import Claim, Column, Figure

FIGURES = (
    Figure("loss", metric="loss", splits=("train",), ylabel="train loss (categorical cross-entropy)",
           title="Training loss by weight initialisation (article 001 §2.2)"),
    Figure("loss_by_iteration", metric="loss", splits=("train",), ylabel="train loss (moving average of 11)",
           xlabel="iteration", smooth=11, title="Training loss by initialisation (the book, Fig. 6-15)",
           variants=("book",)),
)

SUMMARY = (
    Column("final train loss", metric="loss", split="train", point="final", variants=("original", "modern", "book")),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
)

NEGLIGIBLE_LOSS = 0.01  # a train-loss difference no one sees on the loss plot (0 to 2.3): orderings FAIL below it

# "Does not learn" is said of what a run does, so it is judged run by run (runs_near): a mean near ln 10 could
# hide one run that learned and one that went above chance.
CLAIMS = (
    Claim("he_best", "With ReLU, He initialisation reaches the lowest train loss", metric="loss", split="train",
          point="final", relation="lowest", arms=("he_uniform",), versus=("glorot_uniform", "normal_0_01"),
          tolerance=NEGLIGIBLE_LOSS),
    Claim("normal_does_not_learn", "With N(0, 0.01) the loss stays at chance level, ln 10 = 2.303",
          metric="loss", split="train", point="final", relation="runs_near", arms=("normal_0_01",),
          value=2.303, tolerance=0.01),
    Claim("book_he_best", "The book: He initialisation learns fastest with ReLU", metric="loss", split="train",
          point="final", relation="lowest", arms=("he_normal",), versus=("xavier_normal", "normal_0_01"),
          tolerance=NEGLIGIBLE_LOSS, variants=("book",)),
    Claim("book_std_0_01_does_not_learn", "The book: with std=0.01 learning does not progress", metric="loss",
          split="train", point="final", relation="runs_near", arms=("normal_0_01",), value=2.303, tolerance=0.05,
          variants=("book",)),
)
