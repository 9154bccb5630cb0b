"""Hyperparameter search: the book behind article 001, §6.5 (ch06/hyperparameter_optimization.py).

100 settings drawn at random, lr = 10^U(-6,-2) and weight decay lambda = 10^U(-8,-4), each trained once
(SGD, 400 MNIST images, 50 epochs) and judged on 100 validation images; the book plots the 20 best runs.
The draws are a sweep (`hydra/sweeper=book_random_search`, Optuna's seeded random sampler); this module
declares what a run is judged on (OBJECTIVE) and how many runs the best-runs figure shows (BEST_RUNS).
The book states no claim to test beyond its figure.
"""
from studies.config.contract import Column, Figure, NotJudged, Source
from studies.config.tuning import NotTuned

BOOK = ("book",)

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train", "val"), ylabel="accuracy (fraction correct)",
           title="Train and validation accuracy of each setting", variants=BOOK),
)

SUMMARY = (
    Column("final validation accuracy", metric="accuracy", split="val", point="final", variants=BOOK),
    Column("final train accuracy", metric="accuracy", split="train", point="final", variants=BOOK),
)

CLAIMS = ()
NOT_JUDGED = (
    NotJudged(Source("the book behind article 001", "§6.5.3, Fig. 6-24 (the 20 best of 100 settings)", "",
                     "Learning goes well with a learning rate of about 0.001 to 0.01 and a weight decay coefficient "
                     "of about 1e-8 to 1e-6.", "nothing", says="book", verbatim=False),
              "a reading of one random search's 20 best runs, one seed each: the sweep report shows the same "
              "ranking (hyperparameters/), but a range read off 20 single runs is not a claim a test can judge"),
)

OBJECTIVE = SUMMARY[0]  # what the search maximises, and the best-runs figure ranks by
BEST_RUNS = 20

TUNING = NotTuned("it is itself the book's random search over the learning rate and L2 strength")
