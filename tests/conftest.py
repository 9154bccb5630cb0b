"""Shared fixtures: the composed Hydra config, shrunk for tests (profile=smoke), in temporary folders; the data;
a trial for the engines. Shared plain functions are in tests/helpers.py."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from studies.runtime.backend import import_backend_quietly, reductions_in_xla_loops  # noqa: E402

import_backend_quietly()
reductions_in_xla_loops()  # before anything compiles with XLA: engine=fast's stacks require it

import dataclasses  # noqa: E402

import pytest  # noqa: E402

from studies.data.datasets import DEBIAN_FASHION_MNIST, load_fashion_mnist  # noqa: E402
from studies.run.boundary import prepare_run  # noqa: E402
from studies.run.harness import run_study  # noqa: E402
from studies.run.plan import plan_study  # noqa: E402
from tests.helpers import DROPOUT_SMOKE, compose_config, studybench  # noqa: E402


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


@pytest.fixture(scope="session")
def dropout_store(tmp_path_factory):
    """The dropout study's dropout arm, 2 seeds, profile=smoke, trained once by the CLI (engine=fast,
    tensorboard=true, no report) for the tests that read its store, job log or event files: (folder, the CLI's
    output). Built once per pytest-xdist worker: mark its tests xdist_group("dropout_store") to share it."""
    folder = tmp_path_factory.mktemp("dropout_store")
    done = studybench(*DROPOUT_SMOKE, "engine=fast", "report=false", "tensorboard=true", cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder, done


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory):
    """A function: smoke_study(study, variant, seeds) -> (the run's outcome, its folder with results/ and reports/):
    the study trained under profile=smoke and reported, once per pytest-xdist worker for every test that asks for
    the same run (tests in other modules share it when an xdist_group mark puts them on one worker)."""
    runs = {}

    def run(study: str, variant: str, seeds: int):
        if (study, variant, seeds) not in runs:
            folder = tmp_path_factory.mktemp(f"{study}_{variant}")
            cfg = compose_config("profile=smoke", f"study={study}", f"variant={variant}", f"n_seeds={seeds}",
                                 f"results_dir={folder / 'results'}", f"reports_dir={folder / 'reports'}",
                                 "data.download=false")
            runs[study, variant, seeds] = run_study(prepare_run(cfg)), folder
        return runs[study, variant, seeds]
    return run
