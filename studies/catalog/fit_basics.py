"""compile / fit / evaluate / predict: article 000's walkthrough of the Keras training API.

Arms: sparse vs one-hot categorical cross-entropy (same task and seed: the curves must match), Adam as Keras
builds it from the string "adam" (Adam()) vs Adam(learning_rate=0.001) and vs Adam(learning_rate=0.0005),
validation_split=0.2 (the last 20% before shuffling) vs validation_data, binary cross-entropy with a sigmoid
output on a two-class subset, and mean squared error on a regression target (the fraction of pixels brighter
than 0.5). All use EarlyStopping(patience=3, restore_best_weights=True) and ModelCheckpoint(save_best_only)
writing best_model.keras. The article runs nothing itself: its statements about the API are judged on every
run (one run that disagrees refutes them); what has nothing to measure is listed in NOT_JUDGED.
"""
from studies.config.contract import Claim, Column, Figure, NotJudged, Source
from studies.config.tuning import NotTuned

WORK = "article 000"
SAME = Source(WORK, "「損失関数の選び方」, categorical_crossentropy", "sparse 版と数学的には同じだが、ラベルの形式が異なる。",  # noqa: E501 (a quotation, kept whole)
              "Mathematically the same as the sparse version; only the label format differs.",
              "no run; here every epoch of every seed's train and validation loss, bit for bit")
DEFAULT = Source(WORK, "「主要なオプティマイザ」 and the paragraph after the second compile()",
                 "文字列で渡す場合はデフォルト設定が適用され、オブジェクトで渡す場合は学習率などのハイパーパラメータを個別に指定できる。",
                 "Passed as a string, the default settings apply; passed as an object, hyperparameters such as the "
                 "learning rate can be set one by one. (And: 学習率のデフォルトは 0.001, the default learning rate "
                 "is 0.001.)",
                 "no run; here Adam() as compile(optimizer='adam') builds it against Adam(learning_rate=0.001): "
                 "every epoch of every seed's train loss, bit for bit")
QUIZ = Source(WORK, "the closing quiz on validation_split=0.2", "validation_split=0.2 を指定して fit を実行した場合、"
              "訓練データの何パーセントが検証用に使われるか?",
              "With validation_split=0.2, what percentage of the training data is used for validation? (Its options "
              "are 2%, 20%, 80% and none; it marks no answer: 20% is what the earlier text says the setting means.)",
              "no run; here the validation set's size in every run: 20% of the 60,000 training images")
PATIENCE = Source(WORK, "「コールバックで訓練を制御する」",
                  "EarlyStopping は val_loss が 3 エポック連続で改善しなかった場合に訓練を自動停止する。",
                  "EarlyStopping stops training automatically when val_loss has not improved for 3 epochs in a row.",
                  "no run; here, in every run that stopped early, the stop epoch minus the epoch of the best val_loss")
ARGMAX = Source(WORK, "「predict - 推論を実行する」",
                "もっとも確率の高いクラスのインデックスを取り出すには、NumPy の argmax を使う。",
                "To take the index of the most probable class, use NumPy's argmax.",
                "no run; here predict + argmax's accuracy against evaluate()'s on the test set, in every run")
API = "an API fact of the article, exact: one run that disagrees refutes it"


def _statement(place: str, quote: str, translation: str, why: str) -> NotJudged:
    return NotJudged(Source(WORK, place, quote, translation, "nothing"), why)


NOT_JUDGED = (
    _statement("「コールバックで訓練を制御する」", "restore_best_weights=True を指定しておけば、最良のエポック時点の重みに巻き戻してくれる。",  # noqa: E501 (a quotation, kept whole)
               "With restore_best_weights=True, the weights are rolled back to those of the best epoch.",
               "the engines do not yet evaluate the restored weights on the validation set, so no stored number "
               "measures it (evaluate() runs on the test set)"),
    _statement("「コールバックで訓練を制御する」", "ModelCheckpoint は val_loss が最も低いモデルをファイルに自動保存する。",  # noqa: E501 (a quotation, kept whole)
               "ModelCheckpoint saves the model with the lowest val_loss to a file automatically.",
               "the saved best_model.keras is kept but not yet evaluated by the engines, so no stored number "
               "measures it"),
    _statement("「validation_split と validation_data」", "訓練データの末尾から指定割合を自動で切り出す。",
               "It cuts the given fraction off the end of the training data automatically.",
               "studybench takes the last 20% itself (studies/data/splits.py, as Keras documents) and passes it as "
               "validation data, so a run cannot test Keras's own slicing; its size is judged "
               "(validation_is_20_percent)"),
    _statement("「エポックとバッチの関係」", "313 回の重み更新で 1 エポック完了",
               "One epoch is complete after 313 weight updates (10,000 samples in batches of 32).",
               "arithmetic: ceil(10,000 / 32) = 313; nothing to measure"),
    _statement("「エポックとバッチの関係」", "バッチサイズを大きくすると 1 エポックの計算は速くなるが、メモリ消費が増え、学習が不安定になることもある。",  # noqa: E501 (a quotation, kept whole)
               "A larger batch makes an epoch faster to compute, but uses more memory and can make learning unstable.",
               "the article runs no batch sizes against each other; no arm here varies the batch size"),
    _statement("「主要なオプティマイザ」", "迷ったらまず Adam を選んでおけばよい。",
               "When in doubt, choose Adam first.", "advice, with no experiment behind it"),
    _statement("「損失関数の選び方」", "選択を間違えると訓練がまったく進まないこともあるため",
               "Choosing the wrong one can keep training from progressing at all.",
               "no wrong loss is run in the article; none here either"),
    _statement("「history オブジェクトを使った学習曲線の確認」", "訓練損失が下がり続けているのに検証損失が上昇に転じていれば、過学習が起きている。",  # noqa: E501 (a quotation, kept whole)
               "If the training loss keeps falling while the validation loss turns up, overfitting is happening.",
               "a definition of overfitting, not a finding; articles 001 and 002 are judged by it"),
)

FIGURES = (
    Figure("curves", metric="loss", splits=("train", "val", "test"), panel_per_arm=True, mark_stop=True,
           ylabel="loss (each arm's own loss)", title="Learning curves: loss and validation loss (article 000)"),
)

SUMMARY = (
    Column("train samples", metric="", split="train", point="size"),
    Column("validation samples", metric="", split="val", point="size"),
    Column("test samples", metric="", split="test", point="size"),
    Column("stop epoch", metric="loss", split="val", point="stop"),
    Column("evaluate() loss", metric="loss", split="test", point="evaluate"),
    Column("evaluate() accuracy", metric="accuracy", split="test", point="evaluate"),
    Column("predict+argmax accuracy", metric="predict_argmax_accuracy", split="test", point="evaluate"),
    Column("evaluate() MAE", metric="mean_absolute_error", split="test", point="evaluate"),
)

CLAIMS = (
    # "Mathematically the same": every epoch of every seed, bit for bit (tolerance 0); both engines give equal bits.
    Claim("sparse_equals_onehot", "Sparse and one-hot categorical cross-entropy give identical curves",
          metric="loss", split="train", point="curve", relation="identical", arms=("sparse_ce",),
          versus=("onehot_ce",), source=SAME, why_tolerance="0: 'mathematically the same'"),
    Claim("sparse_equals_onehot_val", "... and identical validation losses", metric="loss", split="val",
          point="curve", relation="identical", arms=("sparse_ce",), versus=("onehot_ce",), source=SAME,
          why_tolerance="0: 'mathematically the same'"),
    Claim("adam_string_is_default", "Adam as a string is Adam() with its defaults, learning rate 0.001: identical "
          "curves", metric="loss", split="train", point="curve", relation="identical", arms=("sparse_ce",),
          versus=("adam_default_object",), source=DEFAULT, why_tolerance="0: the same optimizer"),
    Claim("validation_is_20_percent", "validation_split=0.2 holds out 20% (12,000 of 60,000), in every run",
          metric="", split="val", point="size", relation="every_run", arms=("sparse_ce",), value=12000, source=QUIZ,
          why_tolerance="0: a count of images"),
    Claim("early_stopping_waits_3_epochs", "EarlyStopping(patience=3) stops 3 epochs after the best val_loss, in "
          "every run that stopped early", metric="loss", split="val", point="epochs_after_best", relation="every_run",
          arms=("sparse_ce",), value=3, source=PATIENCE, why_tolerance=API),
    Claim("predict_argmax_is_evaluate_accuracy", "predict + argmax gives evaluate()'s accuracy, in every run",
          metric="predict_argmax_accuracy", split="test", point="evaluate_gap:accuracy", relation="every_run",
          arms=("sparse_ce",), value=0, tolerance=1e-6, source=ARGMAX,
          why_tolerance="1e-6: evaluate() reports accuracy in float32, which rounds k/10,000 by up to 3e-8"),
)

TUNING = NotTuned("its claims are about Keras's API behaving alike, not an ordering a tuning budget could change")
