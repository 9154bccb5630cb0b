"""The benchmarked workloads: study trials composed from conf/, their data, and each engine's run of them
wrapped in an EpochStepper (bench/stepping.py) so that steady-state epochs can be timed one by one."""
from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import keras
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from bench.flops import dense_sizes, training_flops
from bench.stepping import EpochStepper
from studies.config.paths import CONF_DIR
from studies.config.settings import DatasetSpec, TrialSpec
from studies.data.datasets import load_dataset
from studies.data.splits import make_splits
from studies.engines.fast import FastEngine
from studies.engines.keras_fit import KerasFitEngine
from studies.engines.labels import encode_targets
from studies.engines.model import build_model, build_optimizer
from studies.run.plan import plan_study
from studies.runtime.backend import NO_YNN_REDUCTIONS
from studies.runtime.provenance import device
from studies.runtime.seeding import seed_everything


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
    epoch, Dense(2), batch 10). The stack is `replicas` seeds of the arm without early stopping: arms of
    other early stopping fall into separate stacks (engine=fast's stack_key)."""
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


class _PauseAtEpochEnd(keras.callbacks.Callback):
    def __init__(self, progress):
        super().__init__()
        self.progress = progress

    def on_epoch_end(self, epoch, logs=None):
        self.progress.epoch(epoch, logs)


def tuned_fit_stepper(workload: Workload, steps_per_execution: int | None, replica: int = 0) -> EpochStepper:
    """model.fit as a speed-minded user writes it, training the workload's trial `replica`: NumPy arrays (which
    Keras shuffles each epoch), jit_compile=True, `steps_per_execution` steps per compiled call (None: a whole
    epoch), validation in batches of EVALUATION_BATCH; none of engine=keras's reproducibility (op determinism,
    our batch order through a generator or tf.data)."""
    trial = workload.trials("keras")[replica]
    spec, splits = trial.train, workload.splits(trial)
    seed_everything(trial.seed)
    model = build_model(trial.model, splits.x_train.shape[1], splits.classes)
    steps = spec.steps_per_epoch or math.ceil(len(splits.x_train) / spec.batch_size)
    model.compile(optimizer=build_optimizer(trial.optimizer), loss=spec.loss, metrics=list(spec.metrics),
                  jit_compile=True, steps_per_execution=steps_per_execution or steps)
    encode = functools.partial(encode_targets, loss=spec.loss, classes=splits.classes)
    validation = None if splits.validation is None else (splits.validation[0], encode(splits.validation[1]))
    return EpochStepper(lambda progress: model.fit(
        splits.x_train, encode(splits.y_train), batch_size=spec.batch_size, epochs=spec.epochs,
        validation_data=validation, validation_batch_size=EVALUATION_BATCH, callbacks=[_PauseAtEpochEnd(progress)],
        verbose=0))


def vmap_loop_stepper(workload: Workload) -> EpochStepper:
    from bench.vmap_loop import vmap_stepper  # JAX and optax: imported only where this baseline runs

    return vmap_stepper(workload)


# How a baseline trains (bench/keras_worker.py builds it by this name in its own process)
RUNNERS = {"engine_keras": keras_stepper, "tuned_fit": tuned_fit_stepper, "vmap_loop": vmap_loop_stepper}


@dataclass(frozen=True)
class Baseline:
    """One alternative to engine=fast: a RUNNERS entry on a Keras backend, with its keyword arguments."""
    name: str
    backend: str  # Keras's backend: in this process if it is the running one, else in a worker process
    runner: str = "engine_keras"
    options: tuple = ()  # the runner's keyword arguments, (name, value) pairs
    processes: int = 1  # model.fit processes at once, each its own seed, pinned one per core: timed together
    modules: tuple = ()  # what it needs beyond its backend

    def installed(self) -> bool:
        return all(importlib.util.find_spec(module) is not None for module in (self.backend, *self.modules))

    def single_model(self) -> bool:
        """A model.fit alternative (the goals' fastest is one of these), not the vmap ensemble of every replica."""
        return self.runner != "vmap_loop"

    def replicas_per_epoch(self, workload: Workload) -> int:
        """Replicas one timed epoch trains: the vmap loop all the workload's, model.fit one per process."""
        return self.processes if self.single_model() else workload.replicas

    def in_this_process(self) -> bool:
        """engine=keras with op determinism on, on the running backend; anything else needs a process of its own:
        another backend, TensorFlow's XLA (see keras_stepper), and everything timed without engine=fast's XLA flag."""
        return (self.runner == "engine_keras" and self.backend == keras.backend.backend()
                and dict(self.options).get("op_determinism", True))

    def settings(self, **extra) -> str:
        """The runner and its arguments, as JSON for a worker."""
        return json.dumps({"runner": self.runner, **dict(self.options), **extra})


EVALUATION_BATCH = 1024  # engine=keras's evaluation_batch_size
WORKER_CORE = "BENCH_WORKER_CORE"  # a worker's one CPU core, which it pins itself to before importing its backend
STEPS_PER_EXECUTION = (1, 10, None)  # the tuned model.fit's sweep; None: a whole epoch per compiled call
USABLE_CORES = len(os.sched_getaffinity(0))


def tuned_fits(backend: str) -> tuple[Baseline, ...]:
    """model.fit tuned (tuned_fit_stepper) over the STEPS_PER_EXECUTION sweep, then one process per core."""
    return (*(Baseline(f"fit_{backend}_{'epoch' if steps is None else f'spe{steps}'}", backend, "tuned_fit",
                       (("steps_per_execution", steps),)) for steps in STEPS_PER_EXECUTION),
            Baseline(f"fit_{backend}_per_core", backend, "tuned_fit", (("steps_per_execution", None),),
                     processes=USABLE_CORES))


BASELINES = (Baseline("keras_tensorflow", "tensorflow", options=(("jit_compile", "auto"),)),
             Baseline("keras_tensorflow_xla", "tensorflow", options=(("jit_compile", True), ("op_determinism", False))),
             Baseline("keras_jax", "jax", options=(("jit_compile", "auto"),)),
             *tuned_fits("tensorflow"), *tuned_fits("jax"),
             Baseline("vmap_optax", "jax", "vmap_loop", modules=("optax",)))


def installed_baselines() -> tuple[Baseline, ...]:
    """The baselines whose backend and modules are installed (a GPU machine may have JAX alone); on an
    accelerator, not one model.fit per CPU core (they would share the one device)."""
    on_cpu = device().startswith("CPU")
    return tuple(b for b in BASELINES if b.installed() and (b.processes == 1 or on_cpu))


class WorkerStepper:
    """A baseline in a worker process (bench/keras_worker.py): on another Keras backend (chosen once per process,
    at import), with TensorFlow's op determinism off, or without engine=fast's XLA flag; the same interface as
    EpochStepper's timing, the epoch timed in the worker. `core`: pinned to that one CPU core."""

    def __init__(self, workload: Workload, baseline: Baseline, core: int | None = None, **settings):
        if not workload.recipe:
            raise ValueError("the workload has no recipe: build it with one of bench.workloads.WORKLOADS")
        # the baselines as a user runs them: without the XLA flag engine=fast's stacks set in this process
        xla_flags = os.environ.get("XLA_FLAGS", "").replace(NO_YNN_REDUCTIONS, "").strip()
        environment = {**os.environ, "KERAS_BACKEND": baseline.backend, "XLA_FLAGS": xla_flags,
                       **({} if core is None else {WORKER_CORE: str(core)})}
        command = [sys.executable, "-m", "bench.keras_worker", *workload.recipe, baseline.settings(**settings)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                         env=environment)

    def ready(self) -> WorkerStepper:
        """Wait for "ready": the first epoch, which compiles, has run."""
        self._answer()
        return self

    def _answer(self) -> str:
        line = self._process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"the keras worker ended (exit status {self._process.wait()}): see its stderr above")
        return line

    def _ask(self, request: str) -> None:
        self._process.stdin.write(request + "\n")
        self._process.stdin.flush()

    def start_step(self) -> None:
        self._ask("step")

    def step_seconds(self) -> float:
        """The seconds of the epoch start_step asked for, once it has run."""
        return float(self._answer())

    def timed_step(self) -> float:
        self.start_step()
        return self.step_seconds()

    def finish(self) -> None:
        self._ask("finish")
        self._answer()
        self._process.wait()


class ParallelStepper:
    """`baseline.processes` model.fit workers at once, each on its own core and seed (as a user runs one per core):
    timed_step is the wall time of one epoch of every worker, from the first request to the last answer."""

    def __init__(self, workload: Workload, baseline: Baseline):
        cores = sorted(os.sched_getaffinity(0))
        self._workers = [WorkerStepper(workload, baseline, cores[index % len(cores)], replica=index % workload.replicas)
                         for index in range(baseline.processes)]

    def ready(self) -> ParallelStepper:
        for worker in self._workers:
            worker.ready()
        return self

    def timed_step(self) -> float:
        started = time.perf_counter()
        for worker in self._workers:
            worker.start_step()
        for worker in self._workers:
            worker.step_seconds()
        return time.perf_counter() - started

    def finish(self) -> None:
        for worker in self._workers:
            worker.finish()


def baseline_steppers(workload: Workload, baselines) -> dict:
    """{name: (baseline, its stepper)}: each baseline epoch by epoch, in this process where it can run here, else
    in a worker (or several); the workers all started before any is waited for, so they start side by side."""
    workers = {b.name: ParallelStepper(workload, b) if b.processes > 1 else WorkerStepper(workload, b)
               for b in baselines if not b.in_this_process()}
    here = {b.name: keras_stepper(workload, **dict(b.options)) for b in baselines if b.in_this_process()}
    steppers = {**here, **{name: worker.ready() for name, worker in workers.items()}}
    return {b.name: (b, steppers[b.name]) for b in baselines}


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
