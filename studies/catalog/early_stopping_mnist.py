"""Early stopping on MNIST: article 002 「딥러닝 모델 학습 조기 종료시키기」 (its book: Kim Tae-young's Keras book).

Dense(2, relu) + Dense(10, softmax) trained by SGD(0.01), batch 10, for up to 3,000 epochs on 700 training
images, validated on 300, both drawn with replacement from MNIST's train[:50000] and train[50000:]; tested on
MNIST's 10,000; early stopping on val_loss with patience 0, 30 (the post) or 20 (the book), or none. Every
number the post prints comes from one run (its training log or evaluate()): each is judged as a single run
(is the post's run a plausible one of ours?), read to the digits printed. Its comparisons are orderings.
"""
from studies.config.contract import Claim, Column, Figure, NotJudged, Source
from studies.config.tuning import NotTuned

POST = "article 002"
TURNS = Source(POST, "after its first listing, the figure of the 3,000-epoch run",
               "검증셋의 손실값(val_loss)를 보면 처음에 감소하다가 200에포크 정도부터 계속 증가하는 것을 볼 수 있습니다. 이 때, 과적합이 발생한 것입니다.",  # noqa: E501 (a quotation, kept whole)
               "Looking at the validation loss (val_loss), it decreases at first and then keeps increasing from "
               "about epoch 200. That is when overfitting occurred.",
               "one run, read by eye off a 3,000-epoch axis; here the epoch of the minimum of val_loss smoothed "
               "over 21 epochs")
LOG = Source(POST, "the first listing's training log, epoch 3000/3000",
             "loss: 0.3905 - accuracy: 0.8943 - val_loss: 4.1411 - val_accuracy: 0.3900",
             "(the log line: after 3,000 epochs, train loss 0.3905, train accuracy 0.8943, validation loss 4.1411, "
             "validation accuracy 0.39)", "one run's last epoch, printed to 4 digits")
EVALUATE = Source(POST, "the first listing's evaluate() output", "loss: 4.143502366256714 accuracy: 0.4408000111579895",
                  "(evaluate() on the 10,000 test images after 3,000 epochs: loss 4.1435, accuracy 0.4408)",
                  "one run's test loss and accuracy")
STOP_50 = Source(POST, "the second listing (EarlyStopping())",
                 "3000번의 에포크를 설정했지만 50번째 에포크에서 학습이 종료되었습니다.",
                 "I set 3,000 epochs, but training ended at epoch 50.", "one run's training log: its last epoch")
AT_ONCE = Source(POST, "after the second listing's figure",
                 "위의 그래프를 보면 모델이 학습을 진행하다가 val_loss가 살짝 증가하는 순간 바로 학습을 종료시켰음을 알 수 있습니다.",  # noqa: E501 (a quotation, kept whole)
                 "The graph shows that the model stopped training the moment val_loss rose slightly.",
                 "one run; here, in every run, the stop comes one epoch after the best val_loss (EarlyStopping's "
                 "patience 0 as Keras implements it)")
LATER = Source(POST, "after the second listing's figure",
               "하지만 모델은 학습하면서 loss 값이 증감을 여러 번 반복하기 때문에, 이후의 에포크에서는 loss가 향상되었을 수도 있습니다.",  # noqa: E501 (a quotation, kept whole)
               "But since the loss goes up and down many times during training, it might have improved in later "
               "epochs.",
               "not measured in the post; here the best val_loss of the unstopped run of the same seed (same "
               "weights and batches until patience 0 stops) against patience 0's best")
STOP_145 = Source(POST, "the third listing (EarlyStopping(patience=30))",
                  "patience 파라미터 설정을 바꾸니 앞선 모델보다 약 100번의 에포크를 더 학습하여 145번째에서 학습이 종료되었습니다.",  # noqa: E501 (a quotation, kept whole)
                  "With patience changed, it trained about 100 epochs more than the previous model and stopped at "
                  "epoch 145.", "one run's training log: its last epoch")
EVALUATE_30 = Source(POST, "the third listing's evaluate() output",
                     "loss: 1.2959346857070924 accuracy: 0.5569999814033508",
                     "(evaluate() on the test images after stopping with patience 30: loss 1.2959, accuracy 0.5570)",
                     "one run's test loss and accuracy")
BETTER = Source(POST, "after the third listing",
                "앞서 바로 종료시켰던 모델보다 loss와 accuracy 모두 향상되었습니다.",
                "Both loss and accuracy improved over the model that was stopped right away.",
                "one run each (patience 30 against patience 0); here test loss and accuracy from evaluate()")
APPROPRIATE = Source(POST, "the closing paragraph",
                     "이렇게 적절한 조기종료는 모델의 성능을 보다 향상시킬 수 있기 때문에 모델의 학습과정을 살펴보고 어느 시점에서 학습을 종료시킬지 판단해야 합니다.",  # noqa: E501 (a quotation, kept whole)
                     "Since appropriate early stopping like this can improve the model's performance further, one "
                     "should look at the training process and judge when to stop it.",
                     "the post's two runs with and without early stopping; here test accuracy, patience 30 against "
                     "no early stopping")
BOOK = Source("the book behind article 002", "its early-stopping chapter (seed 3, Keras 2.0)", "",
              "With patience 20 training stops at epoch 129 and test accuracy is 0.5344.",
              "one run, as recorded in ../shared/reference/original-settings.md", says="book", verbatim=False)
PRINTED = "half the last digit printed (4 digits): the post's number is exact to that"
EXACT = "0: the post prints the epoch from its log"
AXIS = ("100 epochs: on a 3,000-epoch axis a turn 'around 200' cannot be told from 100 or 300; the post's own "
        "patience-30 run stopped at 145, so its minimum lay near 115")
ORDER = "one point of accuracy, or 0.01 of loss: the precision the post prints its comparison to"


def _single(name, text, metric, split, point, arm, value, tolerance, source, why, marks=True):
    """A number the post prints from its one run, read to the precision it is printed with."""
    return Claim(name, text, metric=metric, split=split, point=point, relation="typical", arms=(arm,), value=value,
                 tolerance=tolerance, article_value=f"{value:g}", source=source, why_tolerance=why,
                 article_marks=((arm, value),) if marks else ())


def _order(name, text, metric, relation, arm, versus, source, point="evaluate", split="test"):
    return Claim(name, text, metric=metric, split=split, point=point, relation=relation, arms=(arm,), versus=(versus,),
                 tolerance=0.01, source=source, why_tolerance=ORDER)


NOT_JUDGED = (
    NotJudged(Source(POST, "the third listing", "앞선 모델보다 약 100번의 에포크를 더 학습하여",
                     "It trained about 100 epochs more than the previous model.", "nothing"),
              "follows from the two stop epochs, each judged (patience_0_stops_at_50, patience_30_stops_at_145)"),
    NotJudged(Source(POST, "the EarlyStopping parameters",
                     "EarlyStopping(monitor = 'val_loss', min_delta = 0, patience = 0, mode = 'auto')",
                     "EarlyStopping's defaults: monitor val_loss, min_delta 0, patience 0, mode auto.", "nothing"),
              "API defaults, unchanged from Keras 2 to 3; the patience_0 arm runs EarlyStopping() with them"),
    NotJudged(Source(POST, "after the second listing's figure",
                     "때문에 이렇게 바로 종료시켜 버리면 모델은 과소적합 상태가 될 수 있습니다.",
                     "So stopping right away like this can leave the model underfit.", "nothing"),
              "'can': a possibility, judged through what follows it (later_epochs_improve, "
              "patience_30_beats_patience_0)"),
)

FIGURES = (
    Figure("curves", metric="loss", splits=("train", "val"), twin_metric="accuracy",
           ylabel="loss (categorical cross-entropy, solid)", panel_per_arm=True, mark_stop=True,
           title="Loss (solid) and accuracy (dashed) per arm (article 002)"),
)

SUMMARY = (
    Column("stop epoch", metric="loss", split="val", point="stop"),
    Column("epoch val loss turns up (smoothed minimum)", metric="loss", split="val", point="turn_up_epoch"),
    Column("test loss (evaluate)", metric="loss", split="test", point="evaluate"),
    Column("test accuracy (evaluate)", metric="accuracy", split="test", point="evaluate"),
)

NONE = "no_early_stopping"
CLAIMS = (
    _single("val_loss_turns_up_near_200", "Without early stopping val_loss turns up from about epoch 200",
            "loss", "val", "turn_up_epoch", NONE, 200, 100, TURNS, AXIS),
    _single("final_train_loss", "After 3,000 epochs train loss is 0.3905", "loss", "train", "final", NONE, 0.3905,
            0.00005, LOG, PRINTED, marks=False),
    _single("final_train_accuracy", "... train accuracy 0.8943", "accuracy", "train", "final", NONE, 0.8943, 0.00005,
            LOG, PRINTED),
    _single("final_val_loss", "... validation loss 4.1411", "loss", "val", "final", NONE, 4.1411, 0.00005, LOG,
            PRINTED),
    _single("final_val_accuracy", "... validation accuracy 0.39", "accuracy", "val", "final", NONE, 0.39, 0.00005,
            LOG, PRINTED, marks=False),
    _single("no_stopping_test_loss", "Without early stopping the test loss is 4.1435", "loss", "test", "evaluate",
            NONE, 4.1435, 0.00005, EVALUATE, PRINTED),
    _single("no_stopping_test_accuracy", "Without early stopping the test accuracy is 0.4408", "accuracy", "test",
            "evaluate", NONE, 0.4408, 0.00005, EVALUATE, PRINTED),
    _single("patience_0_stops_at_50", "EarlyStopping() (patience 0) stops at epoch 50", "loss", "val", "stop",
            "patience_0", 50, 0, STOP_50, EXACT),
    Claim("patience_0_stops_at_first_rise", "Patience 0 stops the epoch after the best val_loss, in every run",
          metric="loss", split="val", point="epochs_after_best", relation="every_run", arms=("patience_0",), value=1,
          source=AT_ONCE, why_tolerance="0: an API's behaviour, exact"),
    _order("later_epochs_improve", "Training on would have reached a lower val_loss than patience 0 stopped at",
           "loss", "<", NONE, "patience_0", LATER, point="best", split="val"),
    _single("patience_30_stops_at_145", "EarlyStopping(patience=30) stops at epoch 145", "loss", "val", "stop",
            "patience_30", 145, 0, STOP_145, EXACT),
    _single("patience_30_test_loss", "With patience 30 the test loss is 1.2959", "loss", "test", "evaluate",
            "patience_30", 1.2959, 0.00005, EVALUATE_30, PRINTED),
    _single("patience_30_test_accuracy", "With patience 30 the test accuracy is 0.5570", "accuracy", "test",
            "evaluate", "patience_30", 0.5570, 0.00005, EVALUATE_30, PRINTED),
    _order("patience_30_beats_patience_0", "Patience 30 gives a better test accuracy than patience 0", "accuracy",
           ">", "patience_30", "patience_0", BETTER),
    _order("patience_30_lower_loss_than_patience_0", "... and a lower test loss", "loss", "<", "patience_30",
           "patience_0", BETTER),
    _order("patience_30_beats_no_stopping", "Appropriate early stopping (patience 30) improves test accuracy over "
           "training on", "accuracy", ">", "patience_30", NONE, APPROPRIATE),
    _single("book_patience_20_stops_at_129", "The book: patience 20 stops at epoch 129", "loss", "val", "stop",
            "patience_20", 129, 1, BOOK, "1 epoch: Keras 2.0, which the book ran, stopped one epoch later than "
                                         "Keras 3 for the same patience"),
    _single("book_patience_20_test_accuracy", "The book: with patience 20 test accuracy is 0.5344", "accuracy", "test",
            "evaluate", "patience_20", 0.5344, 0.00005, BOOK, PRINTED),
)

TUNING = NotTuned("its arms are patience settings compared as the article chose them, not a tuned ordering")
