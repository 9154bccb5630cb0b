"""Batch normalization: article 001 §4 「バッチ正規化」 (compare_batch_norm.py; the book's pp. 186-189).

The 5-layer ReLU MLP with every hidden kernel drawn from N(0, 0.01), with BatchNormalization between each
hidden Dense and its ReLU, or without. SGD(0.01), batch 128, 15 epochs, Fashion-MNIST. The article reads one
run's train-accuracy curves: with batch norm even this careless initialisation learns properly.
variant=book: the book's grid (ch06/batch_norm_test.py, Fig. 6-19) of 16 weight scales w (N(0, w^2) on every
layer), with and without the book's batch norm (momentum 0.9, epsilon 1e-6, moving statistics from zero), on
1,000 MNIST images, 100 drawn with replacement per step, the same batches for both; its "training accuracy" is
the whole 1,000 images evaluated in inference mode after every 10 steps (split train_eval). The book's two
sentences over the grid are families of 16 member claims, each with the exceptions its words allow; a run
that diverged did not learn (its accuracy counts as the worst).
"""
from studies.config.contract import Claim, Column, Family, Figure, NotJudged, Source
from studies.config.tuning import NotTuned

BOOK_SCALES = (1.0, 0.54117, 0.292864, 0.158489, 0.0857696, 0.0464159, 0.0251189, 0.0135936, 0.00735642,
               0.00398107, 0.00215443, 0.00116591, 0.000630957, 0.000341455, 0.000184785, 0.0001)  # the yaml's grid
BOOK = ("book",)
LEARNS = Source("article 001", "§4.2, the figure of train accuracy with and without batch norm",
                "図より、バッチ正規化をモデルに適用することで、かなり適当な重みの初期化を行っても、きちんと学習してくれることがわかります!",
                "From the figure, applying batch normalisation to the model makes it learn properly even with a "
                "quite careless weight initialisation!",
                "one run per arm, train accuracy over 15 epochs; here the final train accuracy, batch norm against "
                "the same network without it")
STUCK = Source("article 001", "§4.1, of this initialisation without batch norm",
               "なお、2章で確認したように、この重み初期化では通常学習は全く進行しません。",
               "As confirmed in chapter 2, with this weight initialisation training normally does not progress at all.",
               "§2's run; here each run's final train accuracy near chance (10%); 'normally': most runs")
FASTER = Source("the book behind article 001", "§6.3.2, Fig. 6-19 (16 weight scales)", "",
                "In almost every case, learning progresses faster with Batch Norm.",
                "one run per scale and arm, accuracy on the 1,000 training images over 20 epochs; here the mean of "
                "that curve (the area under it), batch norm against none, per scale", says="book", verbatim=False)
GOOD_SCALE = Source("the book behind article 001", "§6.3.2, Fig. 6-19", "",
                    "Without Batch Norm, learning does not progress at all unless the initial scale is a good one.",
                    "the same grid; here each run's final accuracy below 20% (near chance) without batch norm",
                    says="book", verbatim=False)

NOT_JUDGED = (
    NotJudged(Source("article 001", "§4, introducing batch normalisation",
                     "バッチ正規化を適用することで、モデルの収束を高速化できるほか、重みの初期化手法に対してかなり頑健になります。",
                     "Applying batch normalisation speeds up the model's convergence and makes it quite robust to the "
                     "weight initialisation.", "nothing"),
              "a general statement the article takes from the book before its experiment: its robustness half is "
              "what §4.2 shows (batchnorm_learns), its speed half is the book's (book_batchnorm_faster)"),
)

FIGURES = (
    Figure("accuracy", metric="accuracy", splits=("train",), ylabel="train accuracy (fraction correct)",
           title="Training accuracy with and without batch norm, N(0, 0.01) init (article 001 §4.2)"),
    Figure("accuracy_grid", metric="accuracy", splits=("train_eval",),
           ylabel="train accuracy (all images, inference mode)", panel_by="stddev",
           title="Training accuracy by initial weight scale, with and without batch norm (the book, Fig. 6-19)",
           variants=BOOK),
)

SUMMARY = (
    Column("final train accuracy", metric="accuracy", split="train", point="final"),
    Column("final test accuracy", metric="accuracy", split="test", point="final"),
    Column("final train accuracy (inference mode)", metric="accuracy", split="train_eval", point="final",
           variants=BOOK),
    Column("mean train accuracy over the run (inference mode)", metric="accuracy", split="train_eval", point="mean",
           variants=BOOK),
)

NEGLIGIBLE_ACCURACY = 0.01  # one point of accuracy, the precision the articles quote: orderings FAIL below it
WHY = "one point of accuracy, the precision the sources read off a 0-1 accuracy axis"


def _arm(scale: float, batch_norm: bool) -> str:
    return f"stddev={scale},batch_norm={batch_norm}"


CLAIMS = (
    Claim("batchnorm_learns", "With batch norm, the N(0, 0.01) network learns: higher train accuracy",
          metric="accuracy", split="train", point="final", relation=">", arms=("batch_norm",),
          versus=("no_batch_norm",), tolerance=NEGLIGIBLE_ACCURACY, source=LEARNS, why_tolerance=WHY),
    Claim("no_batchnorm_chance", "Without batch norm it stays near chance (10% accuracy) in most runs",
          metric="accuracy", split="train", point="final", relation="runs_near", arms=("no_batch_norm",),
          value=0.10, tolerance=0.02, at_least=0.5, source=STUCK,
          why_tolerance="two points: a flat line at 10% on the article's 0-1 accuracy axis"),
    Family("book_batchnorm_faster", "The book: batch norm learns faster in almost every case (16 weight scales)",
           members=tuple(Claim(f"book_batchnorm_faster_at_{scale}", f"batch norm learns faster at weight scale {scale}",
                               metric="accuracy", split="train_eval", point="mean", relation=">",
                               arms=(_arm(scale, True),), versus=(_arm(scale, False),),
                               tolerance=NEGLIGIBLE_ACCURACY, variants=BOOK, why_tolerance=WHY)
                         for scale in BOOK_SCALES),
           exceptions=3, why_exceptions="'almost every case' of 16: at least 13 (80%); the book's own figure shows 2 "
                                        "scales where plain SGD is ahead", source=FASTER, variants=BOOK),
    Family("book_no_batchnorm_needs_good_scale",
           "The book: without batch norm, learning does not progress at all unless the scale is good",
           members=tuple(Claim(f"book_no_batchnorm_stuck_at_{scale}",
                               f"without batch norm, no learning at scale {scale}",
                               metric="accuracy", split="train_eval", point="final", relation="runs_below",
                               arms=(_arm(scale, False),), value=0.2, at_least=0.5, variants=BOOK,
                               why_tolerance="below 20%: within a few points of chance (10%) on a 0-1 axis")
                         for scale in BOOK_SCALES),
           exceptions=4, why_exceptions="'unless the scale is good': a few good scales, read as at most a quarter of "
                                        "the 16", source=GOOD_SCALE, variants=BOOK),
)

TUNING = NotTuned("its arms are with and without batch norm, a switch with no hyperparameter both arms share")
