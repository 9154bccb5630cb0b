"""The benchmarked workloads: study trials composed from conf/, their data, and each engine's run of them
wrapped in an EpochStepper (bench/stepping.py) so that steady-state epochs can be timed one by one."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

import keras
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from bench.flops import dense_sizes, training_flops
from bench.stepping import EpochStepper
from studies.config import DatasetSpec, TrialSpec
from studies.data import load_dataset
from studies.engines.fast import FastEngine
from studies.engines.keras_fit import KerasFitEngine
from studies.paths import CONF_DIR
from studies.plan import plan_study
from studies.runtime import NO_YNN_REDUCTIONS
from studies.splits import make_splits


@dataclass(frozen=True)
class Workload:
    trial: TrialSpec  # the study's trial, cut to the epochs the benchmark steps through
    dataset: DatasetSpec  # what each replica trains on
    replicas: int  # trials stacked by engine=fast (seeds first_seed, first_seed + 1, ...)
    recipe: tuple = ()  # (factory name, its keyword arguments as JSON): how another process builds it again

    def trials(self, engine: str) -> list[TrialSpec]:
        return [dataclasses.replace(self.trial, seed=self.trial.seed + offset, engine=engine)
                for offset in range(self.replicas)]

    def splits(self, trial: TrialSpec):
        return make_splits(load_dataset(self.trial.dataset.name, download=False), self.dataset, trial.seed)

    def training_flops_per_epoch(self, train_samples: int) -> int:
        """One replica's training FLOPs in one epoch over train_samples samples (see bench/flops.py)."""
        outputs = self.trial.model.output_units or 10
        return training_flops(dense_sizes(self.trial.model.hidden_units, outputs)) * train_samples


def study_trial(study: str, arm: str, epochs: int, variant: str | None = None) -> TrialSpec:
    """The first seed's trial of a study arm, as `studybench study=STUDY [variant=VARIANT]` plans it, with
    `epochs` epochs."""
    overrides = [f"study={study}", "n_seeds=1", *([f"variant={variant}"] if variant else [])]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)
    trial = next(t for t in plan_study(cfg).trials if t.arm == arm)
    return dataclasses.replace(trial, train=dataclasses.replace(trial.train, epochs=epochs))


def recipe(factory: str, **arguments) -> tuple:
    return factory, json.dumps(arguments, sort_keys=True)


def article001_mlp(samples: int, epochs: int) -> Workload:
    """B1/B3: article 001's MLP (784-100x4-10, batch 128, Adam) on the first `samples` Fashion-MNIST
    images, 8 seeds stacked; no per-epoch validation, so an epoch is training alone."""
    return Workload(study_trial("optimizers", "adam", epochs), DatasetSpec(train_first=samples, validation="none"), 8,
                    recipe("article001_mlp", samples=samples, epochs=epochs))


def article001_cnn(samples: int, epochs: int) -> Workload:
    """B5: the optimizers study's cnn variant (LeNet-like: conv 6@5x5, pool, conv 16@5x5, pool, 120-84-10,
    batch 128, Adam) on the first `samples` Fashion-MNIST images, 8 seeds stacked, no per-epoch validation."""
    trial = study_trial("optimizers", "adam", epochs, variant="cnn")
    return Workload(trial, DatasetSpec(train_first=samples, validation="none"), 8,
                    recipe("article001_cnn", samples=samples, epochs=epochs))


def article002_tiny(epochs: int, replicas: int = 20) -> Workload:
    """B2: article 002's workload (700 drawn MNIST samples, 300 drawn validation samples evaluated every
    epoch, Dense(2), batch 10). The stack is `replicas` seeds of the arm without early stopping: arms that
    differ in having early stopping at all fall into separate stacks (engine=fast's stack_key)."""
    trial = study_trial("early_stopping_mnist", "no_early_stopping", epochs)
    return Workload(trial, trial.dataset, replicas, recipe("article002_tiny", epochs=epochs, replicas=replicas))


WORKLOADS = {"article001_mlp": article001_mlp, "article001_cnn": article001_cnn, "article002_tiny": article002_tiny}


def rebuilt(factory: str, arguments: str) -> Workload:
    """The workload of a recipe (factory name, keyword arguments as JSON), built in this process."""
    if factory not in WORKLOADS:
        raise ValueError(f"unknown workload {factory!r}; valid: {', '.join(WORKLOADS)}")
    return WORKLOADS[factory](**json.loads(arguments))


def keras_stepper(workload: Workload, jit_compile: bool | str = "auto", op_determinism: bool = True) -> EpochStepper:
    """engine=keras training the workload's first trial, epoch by epoch (model.compile's jit_compile).
    op_determinism=False turns TensorFlow's op determinism, which the engine turns on, off again for the whole
    process: Keras compiles nothing with XLA on TensorFlow while it is on (trainer.model_supports_jit)."""
    trial = workload.trials("keras")[0]
    engine = KerasFitEngine({"name": "keras", "jit_compile": jit_compile}, "/nonexistent-results")  # no files written
    if not op_determinism:
        from tensorflow.python.framework import config  # the switch off is not in TensorFlow's public API

        config.disable_op_determinism()
    return EpochStepper(lambda progress: engine.train(trial, workload.splits(trial), progress))


@dataclass(frozen=True)
class Baseline:
    """One single-model alternative to engine=fast: Keras's model.fit on a backend, with a jit_compile."""
    name: str
    backend: str  # Keras's backend: in this process if it is the running one, else in a worker process
    jit_compile: bool | str  # model.compile's; "auto" is Keras's default (XLA under JAX, not on TensorFlow's CPU)
    op_determinism: bool = True  # False (TensorFlow's XLA: see keras_stepper) is process-wide: always in a worker

    def in_this_process(self) -> bool:
        return self.backend == keras.backend.backend() and self.op_determinism

    def settings(self) -> str:
        """keras_stepper's arguments, as JSON for a worker."""
        return json.dumps({"jit_compile": self.jit_compile, "op_determinism": self.op_determinism})


BASELINES = (Baseline("keras_tensorflow", "tensorflow", "auto"),
             Baseline("keras_tensorflow_xla", "tensorflow", True, op_determinism=False),
             Baseline("keras_jax", "jax", "auto"))


def installed_baselines() -> tuple[Baseline, ...]:
    """The baselines whose backend is installed (a GPU machine may have JAX alone)."""
    return tuple(b for b in BASELINES if importlib.util.find_spec(b.backend) is not None)


class WorkerStepper:
    """engine=keras in a worker process (bench/keras_worker.py): on another Keras backend (chosen once per
    process, at import), or with TensorFlow's op determinism off; the same interface as EpochStepper's timing,
    the epoch timed in the worker."""

    def __init__(self, workload: Workload, baseline: Baseline):
        if not workload.recipe:
            raise ValueError("the workload has no recipe: build it with one of bench.workloads.WORKLOADS")
        # model.fit as a user runs it: without the XLA flag engine=fast's stacks set in this process
        xla_flags = os.environ.get("XLA_FLAGS", "").replace(NO_YNN_REDUCTIONS, "").strip()
        environment = {**os.environ, "KERAS_BACKEND": baseline.backend, "XLA_FLAGS": xla_flags}
        command = [sys.executable, "-m", "bench.keras_worker", *workload.recipe, baseline.settings()]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                         env=environment)
        self._answer()  # "ready": the first epoch, which compiles, has run

    def _answer(self) -> str:
        line = self._process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"the keras worker ended (exit status {self._process.wait()}): see its stderr above")
        return line

    def _ask(self, request: str) -> str:
        self._process.stdin.write(request + "\n")
        self._process.stdin.flush()
        return self._answer()

    def timed_step(self) -> float:
        return float(self._ask("step"))

    def finish(self) -> None:
        self._ask("finish")
        self._process.wait()


def baseline_stepper(workload: Workload, baseline: Baseline):
    """The baseline's model.fit epoch by epoch: in this process where it can run here, else in a worker."""
    if baseline.in_this_process():
        return keras_stepper(workload, baseline.jit_compile)
    return WorkerStepper(workload, baseline)


def fast_stepper(workload: Workload) -> EpochStepper:
    """engine=fast training all the workload's replicas as one stack, epoch by epoch."""
    settings = {"name": "fast", "checkpoint_seconds": None, "max_replicas": workload.replicas}
    engine = FastEngine(settings, "/nonexistent-results")
    trials = workload.trials("fast")

    def train(progress) -> None:
        results = list(engine.run(trials, workload.splits, progress))
        failed = [r.message for r in results if r.status == "failed"]
        if failed:
            raise RuntimeError(f"engine=fast failed: {failed[0]}")
    return EpochStepper(train)


def interleaved_rounds(benchmark, measured: EpochStepper, reference, rounds: int) -> tuple[list, list]:
    """Benchmark `rounds` epochs of `measured`, each right after one call of `reference` (which returns
    seconds), so that both see the same load on a shared machine. -> (measured seconds, reference seconds)."""
    reference_seconds = []
    benchmark.pedantic(measured.step, setup=lambda: reference_seconds.append(reference()), rounds=rounds,
                       iterations=1, warmup_rounds=0)
    measured.finish()
    return list(benchmark.stats.stats.data), reference_seconds


def median_ratio(numerators: list, denominators: list) -> float:
    """Median over rounds of each round's ratio: robust to the load drifting between rounds."""
    return statistics.median(n / d for n, d in zip(numerators, denominators))
