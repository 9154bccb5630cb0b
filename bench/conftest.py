"""Benchmark options and the machine details stored with every result (--benchmark-json)."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from studies.runtime.backend import import_backend_quietly, reductions_in_xla_loops  # noqa: E402

import_backend_quietly()
reductions_in_xla_loops()  # before anything compiles with XLA: engine=fast's stacks require it

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--bench-short", action="store_true",
                     help="the CI version: smaller workloads, failing only on a gross regression of a ratio")
    parser.addoption("--bench-floor-only", action="store_true",
                     help="B1/B2 against the floors' baseline alone (engine=keras on the running backend), the goals "
                          "not judged: CI's check, without starting every alternative")


@pytest.fixture(scope="session")
def short(request) -> bool:
    return request.config.getoption("--bench-short")


@pytest.fixture(scope="session")
def floor_only(request) -> bool:
    return request.config.getoption("--bench-floor-only")


def pytest_benchmark_update_machine_info(config, machine_info):
    from bench.machine import load_average, machine_info as this_machine

    machine_info.update({**this_machine(), "load_average_at_end": load_average()})
    machine_info.get("cpu", {}).pop("flags", None)  # the long list; the flags that matter are kept above
