"""More seeds for free where latency bounds the work: engine=fast's per-replica epoch time of article 002's
workload (B2: 700 drawn MNIST samples, batch 10, Dense(2), 300 validation samples every epoch) in stacks
of 20, 100 and 500 replicas.

    python -m bench.replicas [--replicas 20 100 500] [--rounds 5] [--output reports/bench/replicas]

Every stack trains at once, paused between epochs (bench/stepping.py): each round times one steady-state
epoch of each stack in turn, so all see the same load; a figure is the median over rounds. Writes
OUTPUT.json (every round's times, the machine, its load average) and OUTPUT.md (the table).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from studies.runtime.backend import import_backend_quietly  # noqa: E402

import_backend_quietly()

from bench.machine import load_average, machine_info  # noqa: E402
from bench.workloads import article002_tiny, fast_stepper  # noqa: E402
from studies.report.document import Heading, Paragraph, Table, markdown  # noqa: E402


def stack_epochs(replica_counts: list[int], rounds: int) -> dict[int, list[float]]:
    """{replicas: each round's stack epoch seconds}, the stacks stepped in turn round by round."""
    steppers = {count: fast_stepper(article002_tiny(rounds + 1, count)) for count in replica_counts}
    seconds = {count: [] for count in replica_counts}
    for _ in range(rounds):
        for count, stepper in steppers.items():
            seconds[count].append(stepper.timed_step())
    for stepper in steppers.values():
        stepper.finish()
    return seconds


def summary(seconds: dict[int, list[float]]) -> list[dict]:
    smallest = min(seconds)
    smallest_replica = statistics.median(seconds[smallest]) / smallest
    rows = []
    for count, times in seconds.items():
        stack, replica = statistics.median(times), statistics.median(times) / count
        rows.append({"replicas": count, "stack_epoch_s": stack, "replica_epoch_s": replica,
                     "replica_speedup_vs_smallest": smallest_replica / replica, "stack_epoch_s_rounds": times})
    return rows


def report(rows: list[dict], machine: dict, loads: dict) -> str:
    table = tuple((row["replicas"], f"{row['stack_epoch_s'] * 1e3:.1f}", f"{row['replica_epoch_s'] * 1e3:.3f}",
                   f"{row['replica_speedup_vs_smallest']:.2f}") for row in rows)
    libraries = machine["libraries"]
    return markdown([
        Heading("Article 002's workload: per-replica epoch time by stack size", 1),
        Paragraph((f"{machine['cpu_model']} ({', '.join(machine['cpu_flags'])}), {machine['usable_cores']} cores, "
                   f"{machine['device']}; Keras {libraries['keras']} on {libraries['keras_backend']}; load average "
                   f"{loads['start']} at the start, {loads['end']} at the end. Median over rounds of one "
                   "steady-state epoch of each stack in turn.",)),
        Table(("replicas", "stack epoch ms", "per-replica epoch ms", "per-replica speedup vs the smallest"), table)])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[20, 100, 500])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path("reports/bench/replicas"),
                        help="writes OUTPUT.json and OUTPUT.md")
    args = parser.parse_args(argv)
    if min(args.replicas) < 1 or args.rounds < 1:
        parser.error(f"--replicas {args.replicas} and --rounds {args.rounds} must be >= 1")
    loads, started = {"start": load_average()}, time.perf_counter()
    rows = summary(stack_epochs(args.replicas, args.rounds))
    loads["end"] = load_average()
    machine = machine_info()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {"workload": "article002_tiny", "rounds": args.rounds, "rows": rows, "machine": machine,
              "load_average": loads, "wall_s": time.perf_counter() - started}
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    text = report(rows, machine, loads)
    args.output.with_suffix(".md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
