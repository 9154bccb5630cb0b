"""engine=fast against engine=keras (model.fit) and against itself: same curves, stacked or alone."""
import dataclasses
import re

import keras
import pytest

from studies.config.settings import ConfigError, EarlyStoppingSpec, OptimizerSpec
from studies.data.splits import make_splits
from studies.engines.fast import FastEngine, stack_key
from studies.engines.stack import replicas_kept_apart
from studies.run.plan import plan_study
from tests import custom_components
from tests.helpers import assert_same_curves, compose_config, run_fast, run_keras, variant

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

OPTIMIZERS = ["SGD", "Adagrad", "Adadelta", "Adam", "Nadam", "RMSprop", "Keras2Adagrad", "Keras2Nadam"]


BOOK_BATCH_NORM = {"batch_norm": True, "batch_norm_momentum": 0.9, "batch_norm_epsilon": 1e-6,
                   "batch_norm_moving_variance_initializer": "zeros"}
BOOK_TRAINING = {"batch_size": 100, "sampling": "with_replacement", "evaluate_train": True}  # and validation


def model_fit_cases(base):
    """Every optimizer on the plain MLP, then BN (also the book's, with its batches and train evaluation), L2,
    early stopping, odd batching and article 000's losses."""
    stopping = EarlyStoppingSpec(patience=1, restore_best_weights=True)
    return [variant(base, name, name) for name in OPTIMIZERS] + [
        variant(base, "batch_norm", "SGD", model={"batch_norm": True}),
        variant(base, "batch_norm_rmsprop", "RMSprop", model={"batch_norm": True}),
        variant(base, "l2", "Adam", model={"kernel_regularizer": {"name": "L2", "l2": 0.01}}),
        variant(base, "early_stopping", "Adam", train={"epochs": 8, "early_stopping": stopping}),
        variant(base, "partial_batches_split", "Adagrad", train={"batch_size": 100},
                dataset={"validation": "split", "validation_split": 0.25}),
        variant(base, "steps_per_epoch", "SGD", train={"steps_per_epoch": 5, "epochs": 4}),
        variant(base, "book_batch_norm", "SGD", model=BOOK_BATCH_NORM, train=BOOK_TRAINING),
        variant(base, "sparse", "Adam", train={"loss": "sparse_categorical_crossentropy"}),
        variant(base, "binary", "Adam", model={"output_units": 1, "output_activation": "sigmoid"},
                train={"loss": "binary_crossentropy"}, dataset={"classes": (7, 9)}),
        variant(base, "regression", "Adam", model={"output_units": 1, "output_activation": "linear"},
                train={"loss": "mean_squared_error", "metrics": ("mean_absolute_error",)},
                dataset={"target": "ink_fraction"}),
    ]


@pytest.fixture(scope="module")
def fast_results(base_trial, fashion_mnist, tmp_path_factory):
    return run_fast(model_fit_cases(base_trial), fashion_mnist, tmp_path_factory.mktemp("fast"))


@pytest.mark.xdist_group("fast_results")  # one worker trains the module's fast_results, not each
@pytest.mark.parametrize("arm", [trial.arm for trial in model_fit_cases(
    plan_study(compose_config("study=optimizers", "profile=smoke", "n_seeds=1")).trials[0])])
def test_one_replica_matches_model_fit_given_the_same_weights_and_batches(arm, base_trial, fast_results,
                                                                         fashion_mnist, tmp_path):
    """Same initial weights (both build the model under the trial's seed) and batch order; every epoch's
    loss and metrics within 1e-4 relative (measured: about 1e-7), same stop and best epochs."""
    fast = fast_results[(arm, 0)]
    keras_fit = run_keras(dataclasses.replace(fast.trial, engine="keras"), fashion_mnist, tmp_path)
    assert_same_curves(fast, keras_fit, relative=1e-4)
    assert (fast.stop_epoch, fast.best_epoch) == (keras_fit.stop_epoch, keras_fit.best_epoch)
    assert fast.final == pytest.approx(keras_fit.final, rel=1e-4)
    assert fast.status == "ok" and fast.sizes == keras_fit.sizes


DRAWN = {"validation": "drawn", "draw": {"train_range": [0, 50000], "train_n": 700, "val_range": [50000, 60000],
                                         "val_n": 300}}  # article 002: each replica its own samples
STACKABLE = {  # model types of the studies; seeds 0-2 and two values of the per-replica setting in one stack
    "plain": [{}, {"kernel_initializer": "he_uniform"}],
    "drawn_data": [{"hidden_units": []}, {"hidden_units": [], "kernel_initializer": "he_uniform"}],
    "batch_norm": [{"batch_norm": True},
                   {"batch_norm": True, "kernel_initializer": {"name": "RandomNormal", "stddev": 0.01}}],
    "dropout": [{"dropout_rate": 0.15}, {"dropout_rate": 0.5}],
    "l2": [{"kernel_regularizer": {"name": "L2", "l2": 0.1}}, {"kernel_regularizer": {"name": "L2", "l2": 0.001}}],
}


@pytest.mark.parametrize("model_type", STACKABLE)
def test_a_replica_in_a_stack_trains_as_it_does_alone(model_type, base_trial, fashion_mnist, tmp_path):
    stopping = EarlyStoppingSpec(patience=0)
    trials = [variant(base_trial, f"{model_type}_{number}", "Adam", model=settings, seed=seed,
                      train={"epochs": 4, "early_stopping": stopping if number else None},
                      dataset=DRAWN if model_type == "drawn_data" else None)
              for number, settings in enumerate(STACKABLE[model_type]) for seed in range(3)]
    stacked = run_fast(trials, fashion_mnist, tmp_path)
    alone = run_fast(trials, fashion_mnist, tmp_path, max_replicas=1)
    for key, result in stacked.items():
        assert result.status == alone[key].status == "ok", result.message
        assert_same_curves(result, alone[key], relative=1e-5)
        assert (result.stop_epoch, result.best_epoch) == (alone[key].stop_epoch, alone[key].best_epoch)
        assert result.final == pytest.approx(alone[key].final, rel=1e-5)
    curves = [stacked[(f"{model_type}_0", seed)].curves[("train", "loss")] for seed in range(3)]
    assert curves[0] != curves[1] != curves[2]  # each replica has its own seed


@pytest.mark.parametrize("optimizer, rates", [("SGD", (0.1, 0.001)), ("Adam", (0.003, 0.0003)),
                                             ("Keras2Nadam", (0.003, 0.0003))])
def test_replicas_with_different_learning_rates_share_a_stack_and_train_as_alone(optimizer, rates, base_trial,
                                                                                fashion_mnist, tmp_path):
    """Rates in a stable range: beyond it (Adam at 0.1) training is chaotic, and the 1e-7 rounding
    differences of a broadcast versus a scalar learning rate grow past float32 tolerance (under JAX they
    reach 1.1e-5 for Keras2Nadam here: the model.fit tolerance, 1e-4, applies)."""
    trials = [dataclasses.replace(variant(base_trial, f"lr_{rate}_{name}", optimizer, seed=seed, model=model),
                                  optimizer=OptimizerSpec(optimizer, {"learning_rate": rate}))
              for rate in rates for seed in range(2) for name, model in (("plain", {}), ("bn", {"batch_norm": True}))]
    splits = lambda trial: make_splits(fashion_mnist, trial.dataset, trial.seed)  # noqa: E731
    assert len({stack_key(t, splits(t)) for t in trials if not t.model.batch_norm}) == 1
    stacked = run_fast(trials, fashion_mnist, tmp_path)
    alone = run_fast(trials, fashion_mnist, tmp_path, max_replicas=1)
    assert len(stacked) == len(trials)
    for key, result in stacked.items():
        assert result.status == alone[key].status == "ok", result.message
        assert_same_curves(result, alone[key], relative=1e-4)
    losses = [stacked[(f"lr_{rate}_bn", 0)].curves[("train", "loss")] for rate in rates]
    assert losses[0] != losses[1]


def test_early_stopping_is_per_replica_and_restores_each_ones_best_weights(base_trial, fashion_mnist, tmp_path):
    trials = [variant(base_trial, f"patience_{patience}", "SGD", seed=0,
                      train={"epochs": 12, "early_stopping": EarlyStoppingSpec(
                          monitor="val_accuracy", patience=patience, restore_best_weights=True)})
              for patience in (0, 2, 5)]
    trials = [dataclasses.replace(t, optimizer=OptimizerSpec("SGD", {"learning_rate": 0.3})) for t in trials]
    results = run_fast(trials, fashion_mnist, tmp_path)
    for trial in trials:
        keras_fit = run_keras(dataclasses.replace(trial, engine="keras"), fashion_mnist, tmp_path)
        fast = results[(trial.arm, 0)]
        assert (fast.stop_epoch, fast.best_epoch) == (keras_fit.stop_epoch, keras_fit.best_epoch)
        assert fast.final == pytest.approx(keras_fit.final, rel=1e-4)  # evaluated with the best epoch's weights
    assert len({results[(t.arm, 0)].stop_epoch for t in trials}) > 1


def test_a_diverging_replica_is_stored_as_diverged_and_leaves_the_others_alone(base_trial, fashion_mnist, tmp_path):
    huge = {"activation": "relu", "kernel_initializer": {"name": "RandomNormal", "stddev": 1e9}}  # overflows float32
    trials = [variant(base_trial, "sane", "SGD", model={"activation": "relu"}),
              variant(base_trial, "huge", "SGD", model=huge)]
    stacked = run_fast(trials, fashion_mnist, tmp_path)
    alone = run_fast(trials[:1], fashion_mnist, tmp_path)
    assert stacked[("huge", 0)].status == "diverged"
    assert_same_curves(stacked[("sane", 0)], alone[("sane", 0)], relative=1e-5)  # no NaN leaked into it


def test_settings_that_couple_replicas_are_rejected(base_trial, fashion_mnist, tmp_path):
    trial = dataclasses.replace(base_trial, engine="fast", optimizer=OptimizerSpec("Adam", {"global_clipnorm": 1.0}))
    with pytest.raises(ConfigError, match="global_clipnorm=1.0 would clip the norm of all replicas together"):
        run_fast([trial], fashion_mnist, tmp_path)
    lamb = dataclasses.replace(trial, optimizer=OptimizerSpec("Lamb", {}))
    with pytest.raises(ConfigError, match="optimizer Lamb's update of one replica depends on the others"):
        run_fast([lamb], fashion_mnist, tmp_path)
    with pytest.raises(ConfigError, match="unknown key.*replicas; valid: "):
        FastEngine({"name": "fast", "replicas": 4}, tmp_path)


def test_stacks_are_split_to_fit_the_memory_bound(base_trial, fashion_mnist, tmp_path):
    from studies.engines.fast import replica_bytes, shared_bytes
    trials = [variant(base_trial, "plain", "SGD", seed=seed) for seed in range(3)]
    splits = make_splits(fashion_mnist, trials[0].dataset, 0)
    one = replica_bytes(trials[0], splits)
    assert one > 4 * 6 * (784 * 100 + 3 * 100 * 100) and shared_bytes(splits) >= splits.x_train.nbytes
    roomy = FastEngine({"name": "fast", "memory_bytes": shared_bytes(splits) + 10 * one}, tmp_path)
    tight = FastEngine({"name": "fast", "memory_bytes": shared_bytes(splits) + 2 * one}, tmp_path)
    assert roomy.replicas_per_stack(trials[0], splits) == 10 and tight.replicas_per_stack(trials[0], splits) == 2
    split = run_fast(trials, fashion_mnist, tmp_path, memory_bytes=shared_bytes(splits) + one)
    alone = run_fast(trials, fashion_mnist, tmp_path, max_replicas=1)
    assert all(split[key].curves == alone[key].curves for key in alone)  # one replica per stack, as asked
    with pytest.raises(ConfigError, match="memory_bytes=1000 is too small for one replica of optimizers/plain"):
        run_fast(trials, fashion_mnist, tmp_path, memory_bytes=1000)


@pytest.mark.parametrize("optimizer, problem", [
    (custom_components.SignSGD, None),  # elementwise: stacked
    (keras.optimizers.Lion, None),
    (custom_components.NormalizedSGD, "NormalizedSGD's update of one replica depends on the others"),
    (keras.optimizers.Lamb, "Lamb's update of one replica depends on the others"),  # a trust ratio per variable
    (lambda learning_rate: custom_components.Unrecreatable(momentum=0.9, learning_rate=learning_rate),
     r"Unrecreatable could not be checked on a stack of two replicas \(TypeError: .*momentum"),
])
def test_an_optimizer_keras_does_not_list_as_elementwise_is_checked_on_a_stack_of_two(optimizer, problem):
    found = replicas_kept_apart(optimizer(learning_rate=0.01))
    assert found is None if problem is None else re.search(problem, found), found
