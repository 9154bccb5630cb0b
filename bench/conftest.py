"""Benchmark options and the machine details stored with every result (--benchmark-json)."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from studies.environment import import_backend_quietly  # noqa: E402

import_backend_quietly()

import pytest  # noqa: E402

CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")


def pytest_addoption(parser):
    parser.addoption("--bench-short", action="store_true",
                     help="the CI version: smaller workloads, failing only on a gross regression of a ratio")


@pytest.fixture(scope="session")
def short(request) -> bool:
    return request.config.getoption("--bench-short")


def cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo") as info:
            flags = next(line for line in info if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        return []
    return [flag for flag in CPU_FLAGS if flag in flags]


def pytest_benchmark_update_machine_info(config, machine_info):
    from studies.environment import cpu_model, device, versions

    machine_info.update({"cpu_model": cpu_model(), "cpu_flags": cpu_flags(), "cores": os.cpu_count(),
                         "usable_cores": len(os.sched_getaffinity(0)), "device": device(), "libraries": versions()})
    machine_info.get("cpu", {}).pop("flags", None)  # the long list; the flags that matter are kept above
