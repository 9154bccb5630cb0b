"""Weight initialisation: article 001 §2 「重みの初期化」 (compare_initializer.py; the book's pp. 184-186).

The 5-layer MLP with ReLU hidden layers, SGD(0.01), batch 128, 15 epochs, Fashion-MNIST; the hidden kernels
start from Xavier (glorot_uniform, Keras's default), He (he_uniform) or N(0, 0.01). The article reads its
figure of one run's train-loss curves: He suits ReLU best; §4.1 adds that N(0, 0.01) does not learn at all.
variant=book: the book's Gaussians N(0, 0.01^2), N(0, 1/n) and N(0, 2/n) over 2,000 iterations.
"""
from studies.config.contract import Claim, Column, Figure, NotJudged, Source
from studies.config.tuning import NotTuned

ALL = ("original", "modern", "book")
HE = Source("article 001", "§2.2, the figure of train loss by initialisation",
            "図より、やはり活性化関数にReLUを用いる場合には、Heの一様分布による初期化が最も適していることがわかりました。",
            "From the figure, as expected, with ReLU as the activation function, initialisation from He's uniform "
            "distribution turned out to be the most suitable.",
            "one run per initialiser, train-loss curves over 15 epochs read by eye in a section on convergence "
            "speed; here the lowest mean train loss over the 15 epochs")
STUCK = Source("article 001", "§4.1, recalling §2.2's figure",
               "なお、2章で確認したように、この重み初期化では通常学習は全く進行しません。",
               "As confirmed in chapter 2, with this weight initialisation training normally does not progress at all.",
               "§2.2's train-loss curve of N(0, 0.01), flat at chance (ln 10 = 2.303); 'normally': most runs")
BOOK_HE = Source("the book behind article 001", "§6.2.4, Fig. 6-15 (MNIST, 2,000 iterations)", "",
                 "With ReLU, He's initial values make learning progress fastest.",
                 "one run, smoothed train loss per iteration; here the mean train loss over the run",
                 says="book", verbatim=False)
BOOK_STUCK = Source("the book behind article 001", "§6.2.4, Fig. 6-15", "",
                    "With std = 0.01, learning does not progress at all.",
                    "one run's loss curve staying at ln 10; here the final train loss of each run", says="book",
                    verbatim=False)

NOT_JUDGED = (
    NotJudged(Source("article 001", "§2.1, from Keras's documentation of Dense",
                     "初期化の手法として、Glorotの一様分布(Xavierの一様分布)が用いられていることがわかります。",
                     "We see that Glorot's uniform distribution (Xavier's) is used as the initialisation method.",
                     "nothing"),
              "an API default (Dense's kernel_initializer='glorot_uniform' in Keras 2.2 and 3 alike), read from the "
              "documentation; the glorot_uniform arm builds it"),
)

FIGURES = (
    Figure("loss", metric="loss", splits=("train",), ylabel="train loss (categorical cross-entropy)",
           title="Training loss by weight initialisation (article 001 §2.2)"),
    Figure("loss_by_iteration", metric="loss", splits=("train",), ylabel="train loss (moving average of 11)",
           xlabel="iteration", smooth=11, title="Training loss by initialisation (the book, Fig. 6-15)",
           variants=("book",)),
)

SUMMARY = (
    Column("final train loss", metric="loss", split="train", point="final", variants=ALL),
    Column("mean train loss over the run", metric="loss", split="train", point="mean", variants=ALL),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
)

NEGLIGIBLE_LOSS = 0.01  # a train-loss difference no one sees on the loss plot (0 to 2.3): orderings FAIL below it
WHY = "0.01 nats: a line's width on the 0-2.3 loss axis the source plots"

# "Does not learn" is said of what a run does, so it is judged run by run: "normally" is most runs (at_least 0.5).
CLAIMS = (
    Claim("he_best", "With ReLU, He initialisation converges fastest: the lowest mean train loss", metric="loss",
          split="train", point="mean", relation="lowest", arms=("he_uniform",),
          versus=("glorot_uniform", "normal_0_01"), tolerance=NEGLIGIBLE_LOSS, source=HE, why_tolerance=WHY),
    Claim("normal_does_not_learn", "With N(0, 0.01) the train loss stays at chance, ln 10 = 2.303, in most runs",
          metric="loss", split="train", point="final", relation="runs_near", arms=("normal_0_01",), value=2.303,
          tolerance=0.01, at_least=0.5, source=STUCK,
          why_tolerance="0.01 nats: a flat line at ln 10 on the source's loss axis"),
    Claim("book_he_best", "The book: He initialisation learns fastest with ReLU", metric="loss", split="train",
          point="mean", relation="lowest", arms=("he_normal",), versus=("xavier_normal", "normal_0_01"),
          tolerance=NEGLIGIBLE_LOSS, variants=("book",), source=BOOK_HE, why_tolerance=WHY),
    Claim("book_std_0_01_does_not_learn", "The book: with std=0.01 learning does not progress", metric="loss",
          split="train", point="final", relation="runs_near", arms=("normal_0_01",), value=2.303, tolerance=0.05,
          at_least=0.5, variants=("book",), source=BOOK_STUCK,
          why_tolerance="0.05 nats: the book's smoothed per-iteration loss wobbles by that much at ln 10"),
)

TUNING = NotTuned("its arms are initialisations, which have no strength of their own to tune alike")
