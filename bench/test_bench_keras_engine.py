"""Timing of engine=keras (pytest-benchmark): one epoch of article 001's MLP, Fashion-MNIST, batch 128.

Run with `make bench`. Speed goals are stated as ratios between engines measured in one run (see the
fast-engine issue); this file records the reference engine's epoch time and samples per second.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import dataclasses  # noqa: E402

import pytest  # noqa: E402

from studies.config.settings import DatasetSpec  # noqa: E402
from studies.data.datasets import load_fashion_mnist  # noqa: E402
from studies.data.splits import make_splits  # noqa: E402
from studies.engines.keras_fit import KerasFitEngine  # noqa: E402
from studies.run.plan import plan_study  # noqa: E402
from tests.helpers import Quiet, compose_config  # noqa: E402

SAMPLES = 16384


@pytest.fixture(scope="module")
def one_epoch_trial():
    trial = next(t for t in plan_study(compose_config("n_seeds=1")).trials if t.arm == "adam")
    return dataclasses.replace(trial, train=dataclasses.replace(trial.train, epochs=1))


def test_keras_fit_epoch(benchmark, one_epoch_trial, tmp_path):
    dataset = load_fashion_mnist(download=False)
    splits = make_splits(dataset, DatasetSpec(train_first=SAMPLES, validation="none"), seed=0)
    engine = KerasFitEngine({"name": "keras"}, tmp_path)
    result = benchmark.pedantic(engine.train, args=(one_epoch_trial, splits, Quiet()), rounds=3, iterations=1)
    benchmark.extra_info["samples_per_epoch"] = SAMPLES
    benchmark.extra_info["samples_per_s"] = SAMPLES / benchmark.stats.stats.median
    assert result.stop_epoch == 1
