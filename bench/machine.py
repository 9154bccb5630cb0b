"""The machine a benchmark ran on, stored with its figures: CPU model and the SIMD flags that matter, cores,
load average, accelerator and library versions."""
from __future__ import annotations

import os

CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")


def cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo") as info:
            flags = next(line for line in info if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        return []
    return [flag for flag in CPU_FLAGS if flag in flags]


def machine_info() -> dict:
    from studies.runtime.provenance import cpu_model, device, versions

    return {"cpu_model": cpu_model(), "cpu_flags": cpu_flags(), "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)), "device": device(), "libraries": versions()}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (other work sharing the machine)."""
    return [round(load, 2) for load in os.getloadavg()]
