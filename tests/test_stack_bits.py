"""Same seed, same bits: a trial's curves under engine=fast do not depend on the stack it trains in.

The same trials (two arms that differ in dropout rate, learning rate and early stopping; two seeds) train
alone, all together and split by the memory bound (3 + 1, in another order), for 60 epochs; every stored
number must be equal bit for bit. Small data and layers keep it quick: bits, not accuracy, are tested.
"""
import dataclasses

import keras
import pytest

from studies.config import EarlyStoppingSpec, OptimizerSpec
from studies.engines.fast import replica_bytes, shared_bytes
from studies.splits import make_splits
from tests.test_engine_fast import base_trial, run_fast, variant  # noqa: F401 (a fixture)

EPOCHS = 60
SMALL = {"train_first": 192, "test_first": 600}  # evaluated in two calls of engine.evaluation_rows (512)
# Keras's JAX backend: XLA as jaxlib 0.10 bundles it rounds some per-sample losses of stacks of 4 or more
# replicas differently from smaller stacks (weights stay equal); recorded, not hidden.
JAX_ROUNDING = pytest.mark.xfail(keras.backend.backend() == "jax", strict=True,
                                 reason="jaxlib 0.10's XLA rounds losses differently in stacks of >= 4 replicas")


def arm(base, name, dropout_rate, learning_rate, stopping, seed):
    trial = variant(base, name, "Adam", seed=seed, model={"dropout_rate": dropout_rate, "hidden_units": (32, 32)},
                    train={"epochs": EPOCHS, "batch_size": 32, "early_stopping": stopping}, dataset=SMALL)
    return dataclasses.replace(trial, optimizer=OptimizerSpec("Adam", {"learning_rate": learning_rate}))


@pytest.fixture(scope="module")
def two_arms(base_trial):
    stopping = EarlyStoppingSpec(monitor="val_loss", patience=3, restore_best_weights=True)
    first = [arm(base_trial, "dropout_stopping", 0.15, 0.003, stopping, seed) for seed in range(2)]
    second = [arm(base_trial, "more_dropout", 0.3, 0.001, None, seed) for seed in range(2)]
    return first, second


def assert_same_bits(results: dict, reference: dict) -> None:
    assert results.keys() == reference.keys()
    for key, result in results.items():
        expected = reference[key]
        assert result.status == expected.status == "ok", result.message
        assert result.curves == expected.curves, key  # float == float: bit for bit
        assert result.final == expected.final, key
        assert (result.stop_epoch, result.best_epoch) == (expected.stop_epoch, expected.best_epoch), key


@JAX_ROUNDING
def test_a_trial_trains_to_the_same_bits_alone_with_other_arms_and_split(two_arms, fashion_mnist, tmp_path):
    first, second = two_arms
    everything = first + second
    alone = run_fast(everything, fashion_mnist, tmp_path, max_replicas=1)
    assert {result.stop_epoch for key, result in alone.items() if key[0] == "dropout_stopping"} != {EPOCHS}
    together = run_fast(everything, fashion_mnist, tmp_path)
    splits = make_splits(fashion_mnist, first[0].dataset, 0)
    room_for_three = shared_bytes(splits) + 3 * replica_bytes(first[0], splits)
    split = run_fast(second[::-1] + first, fashion_mnist, tmp_path, memory_bytes=room_for_three)
    for composition in (together, split):
        assert_same_bits(composition, alone)
    seeds = [alone[("more_dropout", seed)].curves[("train", "loss")] for seed in range(2)]
    assert seeds[0] != seeds[1]  # the seeds really differ


@JAX_ROUNDING  # the sparse arm's stack has 4 replicas, the one-hot arm's 2
def test_sparse_and_one_hot_cross_entropy_give_the_same_bits(base_trial, fashion_mnist, tmp_path):
    """fit_basics's claim that the two losses are the same computation, as engine=keras shows it; as in
    fit_basics, the sparse arm shares its stack with an arm of another learning rate, the one-hot arm not."""
    trials = [variant(base_trial, loss, "Adam", seed=seed, train={"loss": loss, "epochs": 5}, dataset=SMALL)
              for loss in ("sparse_categorical_crossentropy", "categorical_crossentropy") for seed in range(2)]
    slower = [dataclasses.replace(t, arm="slower", optimizer=OptimizerSpec("Adam", {"learning_rate": 0.0005}))
              for t in trials[:2]]
    results = run_fast(trials + slower, fashion_mnist, tmp_path)
    for seed in range(2):
        sparse, one_hot = results[("sparse_categorical_crossentropy", seed)], results[("categorical_crossentropy", seed)]
        assert sparse.curves == one_hot.curves and sparse.final == one_hot.final
