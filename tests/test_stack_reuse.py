"""Stacks of one program share its compiled code: traced once, restarted with each stack's own weights, rates
and seeds, to the same bits as a freshly compiled stack; stacks of other shapes or settings get their own."""
import dataclasses

import keras
import pytest

from studies.config.settings import OptimizerSpec
from studies.engines import stack_backends
from studies.engines.stack import Stack, program_key
from tests.helpers import run_fast, variant

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

SMALL = {"train_first": 192, "test_first": 600}


def trials(base, arm, seeds, learning_rate, model):
    trial = variant(base, arm, "Adam", model={"hidden_units": (32, 32), **model}, train={"epochs": 2},
                    dataset=SMALL)
    return [dataclasses.replace(trial, seed=seed, optimizer=OptimizerSpec("Adam", {"learning_rate": learning_rate}))
            for seed in seeds]


@pytest.fixture
def traces(monkeypatch):
    """Runs trials on an empty cache of idle stacks: (results, how many forward passes were traced)."""
    count, forward = [0], Stack.forward

    def counted(self, *arguments):
        count[0] += 1  # compiled code runs the forward pass without calling it: each call is a trace
        return forward(self, *arguments)

    monkeypatch.setattr(Stack, "forward", counted)

    def run(*arguments, **settings):
        stack_backends.idle.clear()
        count[0] = 0
        return run_fast(*arguments, **settings), count[0]
    return run


def test_a_stack_of_another_seed_and_rates_reuses_the_program_to_the_same_bits(base_trial, fashion_mnist, tmp_path,
                                                                              traces):
    first = trials(base_trial, "first", (0, 1), 0.001, {"dropout_rate": 0.15})
    second = trials(base_trial, "second", (2, 3), 0.003, {"dropout_rate": 0.3, "kernel_initializer": "he_uniform"})
    fresh, traced_once = traces(second, fashion_mnist, tmp_path)
    both, traced = traces(first + second, fashion_mnist, tmp_path, max_replicas=2)  # two stacks, one program
    assert traced == traced_once > 0
    for key, result in fresh.items():
        assert result.status == both[key].status == "ok", result.message
        assert (result.curves, result.final) == (both[key].curves, both[key].final), key  # bit for bit
    assert both[("first", 0)].curves != both[("second", 2)].curves


def test_stacks_of_other_layer_shapes_do_not_share_a_program(base_trial, fashion_mnist, tmp_path, traces):
    narrow = trials(base_trial, "narrow", (0, 1), 0.001, {})
    wide = trials(base_trial, "wide", (0, 1), 0.001, {"hidden_units": (64, 32)})
    _, traced_once = traces(narrow, fashion_mnist, tmp_path)
    _, traced = traces(narrow + wide, fashion_mnist, tmp_path)
    assert traced == 2 * traced_once


def mlp(seed, units=8, activation="relu", initializer="glorot_uniform", dropout=0.1, regularizer=None, inputs=4):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((inputs,)),
                             keras.layers.Dense(units, activation, kernel_initializer=initializer,
                                                kernel_regularizer=regularizer),
                             keras.layers.Dropout(dropout), keras.layers.Dense(3, "softmax")])


def key(models, optimizer=None, loss="categorical_crossentropy"):
    return program_key(models, optimizer or keras.optimizers.Adam(0.001), loss, ["accuracy"],
                       [[0.0, 1.0, 0.0]], jit_compile=True)


def test_the_program_key_leaves_out_only_initial_values_and_per_replica_rates():
    reference = key([mlp(0), mlp(1)])
    assert key([mlp(2, initializer="he_uniform", dropout=0.5), mlp(3)], keras.optimizers.Adam(0.1)) == reference
    for other in (key([mlp(0, units=9), mlp(1, units=9)]), key([mlp(0, inputs=5), mlp(1, inputs=5)]),
                  key([mlp(0, activation="tanh"), mlp(1)]),
                  key([mlp(0, regularizer=keras.regularizers.L2(0.1)), mlp(1)]), key([mlp(0), mlp(1), mlp(2)]),
                  key([mlp(0), mlp(1)], keras.optimizers.Adam(0.001, beta_1=0.8)),
                  key([mlp(0), mlp(1)], keras.optimizers.Nadam(0.001)), key([mlp(0), mlp(1)], loss="mse")):
        assert other != reference
