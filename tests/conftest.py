"""Shared fixtures: the composed Hydra config, shrunk for tests (profile=smoke), in temporary folders; the data;
a trial for the engines. Shared plain functions are in tests/helpers.py."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from studies.runtime import import_backend_quietly, reductions_in_xla_loops  # noqa: E402

import_backend_quietly()
reductions_in_xla_loops()  # before anything compiles with XLA: engine=fast's stacks require it

import dataclasses  # noqa: E402

import pytest  # noqa: E402

from studies.data import DEBIAN_FASHION_MNIST, load_fashion_mnist  # noqa: E402
from studies.plan import plan_study  # noqa: E402
from tests.helpers import compose_config  # noqa: E402


def pytest_configure(config):
    """Refuse `--dist loadgroup` on a pytest that drops its `xdist_group` marks (pytest-xdist#1386): the
    group's tests would each build its module fixture (minutes of training) and start Ray clusters side by side."""
    if config.getoption("dist", "no") == "loadgroup" and pytest.version_tuple[:2] >= (9, 2):
        raise pytest.UsageError(f"pytest {pytest.__version__} drops pytest-xdist 3.8's xdist_group marks "
                                f"(pytest-xdist#1386): install pytest<9.2, as `make test` does")


@pytest.fixture
def smoke_config(tmp_path):
    """A function: smoke_config(*overrides) -> a resolved config writing under tmp_path, no downloads."""
    def make(*overrides: str) -> dict:
        return compose_config("profile=smoke", "n_seeds=2", f"results_dir={tmp_path / 'results'}",
                              f"reports_dir={tmp_path / 'reports'}", "data.download=false", *overrides)
    return make


@pytest.fixture(scope="module")
def trials():
    """The optimizers study's trials, shrunk (profile=smoke), two seeds: for store tests."""
    return plan_study(compose_config("profile=smoke", "n_seeds=2")).trials


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real dataset; `make test` installs it (Debian's dataset-fashion-mnist) before running pytest."""
    return load_fashion_mnist(download=False)


@pytest.fixture(scope="session")
def fashion_mnist_folder():
    if not DEBIAN_FASHION_MNIST.is_dir():
        pytest.fail(f"{DEBIAN_FASHION_MNIST} missing: run the tests through `make test`, which installs it")
    return DEBIAN_FASHION_MNIST


@pytest.fixture(scope="module")
def base_trial():
    """The optimizers study's first trial, shrunk (profile=smoke) to 3 epochs: helpers.variant makes others of it."""
    trial = plan_study(compose_config("study=optimizers", "profile=smoke", "n_seeds=1")).trials[0]
    return dataclasses.replace(trial, train=dataclasses.replace(trial.train, epochs=3))
