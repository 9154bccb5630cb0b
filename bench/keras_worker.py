"""A baseline in a process of its own, for bench.workloads.WorkerStepper.

Keras picks its backend once per process, at import, so a benchmark on TensorFlow times model.fit on JAX
(and one on JAX times it on TensorFlow) in this worker; so too model.fit on TensorFlow with XLA, which
needs TensorFlow's op determinism off for the whole process, and the baselines timed without engine=fast's
XLA flag (the tuned model.fit, the vmap loop):

    KERAS_BACKEND=jax python -m bench.keras_worker FACTORY ARGUMENTS_JSON SETTINGS_JSON

builds the workload (a bench.workloads factory and its keyword arguments; SETTINGS: the runner, a
bench.workloads.RUNNERS name, and its keyword arguments, bench.workloads.Baseline.settings), runs its
first epoch (which compiles) and writes "ready"; then each "step" line on stdin runs one more epoch and answers its
seconds,
and "finish" lets the run end, answers "done" and exits. Only the answers reach stdout: anything else
written there (by Python or by the libraries' C++) goes to stderr.
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "BENCH_WORKER_CORE" in os.environ:  # bench.workloads.WORKER_CORE: before the libraries size their thread pools
    os.sched_setaffinity(0, {int(os.environ["BENCH_WORKER_CORE"])})

from studies.runtime.backend import import_backend_quietly  # noqa: E402

import_backend_quietly()

from bench.workloads import RUNNERS, rebuilt  # noqa: E402


def serve(stepper, requests, answer) -> None:
    answer("ready")
    for request in requests:
        if request.strip() == "step":
            answer(repr(stepper.timed_step()))
        elif request.strip() == "finish":
            stepper.finish()
            answer("done")
            return
        else:
            raise ValueError(f"unknown request {request.strip()!r}; valid: step, finish")


def main(argv: list[str]) -> None:
    factory, arguments, settings = argv
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    options = json.loads(settings)
    runner = options.pop("runner")
    if runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}; valid: {', '.join(RUNNERS)}")
    stepper = RUNNERS[runner](rebuilt(factory, arguments), **options)

    def answer(line: str) -> None:
        answers.write(line + "\n")
        answers.flush()
    serve(stepper, sys.stdin, answer)


if __name__ == "__main__":
    main(sys.argv[1:])
