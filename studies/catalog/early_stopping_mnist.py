"""Early stopping on MNIST: article 002 「딥러닝 모델 학습 조기 종료시키기」 (its book: Kim Tae-young's Keras book).

Dense(2, relu) + Dense(10, softmax) trained by SGD(0.01), batch 10, for up to 3,000 epochs on 700 training
images, validated on 300, both drawn with replacement from MNIST; early stopping on val_loss with patience
0, 30 (the post) or 20 (the book), or none.
The article's claims: without early stopping val_loss turns up near epoch 200 and test accuracy ends near
0.44; patience 0 stops near epoch 50; patience 30 stops near epoch 145 with better test accuracy (0.557).
"""
from studies.contract import Claim, Column, Figure

FIGURES = (
    Figure("curves", metric="loss", splits=("train", "val"), twin_metric="accuracy",
           ylabel="loss (categorical cross-entropy, solid)", panel_per_arm=True, mark_stop=True,
           title="Loss (solid) and accuracy (dashed) per arm (article 002)"),
)

SUMMARY = (
    Column("stop epoch", metric="loss", split="val", point="stop"),
    Column("epoch of lowest val loss", metric="loss", split="val", point="best_epoch"),
    Column("test loss (evaluate)", metric="loss", split="test", point="evaluate"),
    Column("test accuracy (evaluate)", metric="accuracy", split="test", point="evaluate"),
)

# The epochs and accuracies are the article's single run: one draw of a value that varies from seed to seed, so
# they are judged on the mean (approx), not run by run. A difference below one point of test accuracy (the
# precision the article quotes) refutes the ordering.
CLAIMS = (
    Claim("val_loss_turns_up_near_200", "Without early stopping val_loss turns up near epoch 200",
          metric="loss", split="val", point="best_epoch", relation="approx", arms=("no_early_stopping",),
          value=200, tolerance=75, article_value="~200 (book: ~150)", article_marks=(("no_early_stopping", 200),)),
    Claim("no_stopping_test_accuracy", "Without early stopping test accuracy ends near 0.44", metric="accuracy",
          split="test", point="evaluate", relation="approx", arms=("no_early_stopping",), value=0.44,
          tolerance=0.05, article_value="0.4408 (book: 0.4499)", article_marks=(("no_early_stopping", 0.4408),)),
    Claim("patience_0_stops_near_50", "EarlyStopping() with patience 0 stops near epoch 50", metric="loss",
          split="val", point="stop", relation="approx", arms=("patience_0",), value=50, tolerance=20,
          article_value="50 (book: 53)", article_marks=(("patience_0", 50),)),
    Claim("patience_30_stops_near_145", "EarlyStopping(patience=30) stops near epoch 145", metric="loss",
          split="val", point="stop", relation="approx", arms=("patience_30",), value=145, tolerance=40,
          article_value="145", article_marks=(("patience_30", 145),)),
    Claim("patience_30_beats_patience_0", "Patience 30 gives better test accuracy than patience 0",
          metric="accuracy", split="test", point="evaluate", relation=">", arms=("patience_30",),
          versus=("patience_0",), tolerance=0.01, article_value="0.5570 vs 0.4443 (book)",
          article_marks=(("patience_30", 0.5570), ("patience_0", 0.4443))),
)
