"""engine=fast: a study's pending trials trained together, as replicas stacked along a leading axis.

Trials share a stack when they share architecture, optimizer settings, early stopping, loss, metrics, batch
size and data sizes; within a stack they may differ in seed, initializer, regularizer strength, dropout rate,
learning rate and epochs. Each replica keeps engine=keras's batch order (studies.runtime.seeding), its own
dropout masks and batch-norm statistics. Early stopping, TerminateOnNaN-style stopping and best-model
checkpoints are per replica: the real `keras.callbacks.EarlyStopping` and `ModelCheckpoint`, one of each
per replica, see a `ReplicaModel` standing in for the Keras model. A stopped replica's results are fixed
at its stop; once stopped replicas are a quarter of the stack, it goes on without them: its live replicas
move to a stack of their number (`StackRun._compact`), so few epochs are computed for trials that have
stopped (`ReplicaEpochs` counts them).
Stacks of one program (the same shapes and settings, whatever their seeds and rates) run one compiled code,
traced once (studies.engines.stack_backends).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from pathlib import Path

import keras
import numpy as np

from studies.config.run_settings import engine_defaults
from studies.config.settings import ConfigError, TrialSpec, check_keys, require_bool
from studies.engines.batches import epoch_batches
from studies.engines.checkpoint import Checkpoints, plain_state, restore_state
from studies.engines.labels import encode_targets
from studies.engines.model import STAND_IN_SHAPE, build_model, build_optimizer, make_callbacks
from studies.engines.replica import REPLICA_CALLBACKS, ReplicaModel
from studies.engines.shared import finished_result, prediction_scores, trial_callbacks
from studies.engines.stack import layer_problem, optimizer_problem, per_replica_sums
from studies.engines.stack_backends import make_stack, release
from studies.runtime.backend import deterministic_ops
from studies.runtime.keras_internals import require_checked_version
from studies.runtime.phases import first_call, timed
from studies.runtime.provenance import device
from studies.runtime.seeding import seed_everything, source_seed
from studies.store.trial_result import TRAIN_EVALUATION, TrialResult, failed_result, split_metric

SETTINGS = ("name", "max_replicas", "memory_bytes", "evaluation_rows", "jit_compile", "checkpoint_seconds", "fallback")
DEFAULTS = engine_defaults("fast")  # conf/engine/fast.yaml: the one place they are set
TRAINING_COPIES = 6  # per weight: the value, its gradient and up to 3 optimizer slots, and a spare
# A stack of one is trained beside a copy of itself: XLA compiles a unit replica axis away, to arithmetic
# that rounds differently, and a trial's bits must not depend on what else is in its stack.
MINIMUM_REPLICAS = 2
# A stack goes on without its stopped replicas once they are this share of it: each new stack size is compiled
# (seconds, as long as hundreds of a small stack's epochs), so not at every stop.
IDLE_SHARE = 0.25
SAME_LOSS = {"sparse_categorical_crossentropy": "categorical_crossentropy"}


def replica_bytes(trial: TrialSpec, splits) -> int:
    """What one more replica adds to a stack: its weights with gradients and optimizer slots, its
    activations (kept for the backward pass) and, where its data is its own (article 002's draws), its
    samples; data shared with the other replicas is counted once per stack, by `shared_bytes`."""
    model = build_model(trial.model, splits.x_train.shape[1], splits.classes)  # its shapes: nothing is trained
    activations = trial.train.batch_size * sum(map(_features, model.layers)) * 3  # pre-activation, activation, gradient
    own_data = sum(x.nbytes for x in _arrays(splits) if x.base is None)
    return 4 * (TRAINING_COPIES * model.count_params() + activations) + own_data


def _features(layer) -> int:
    """A layer's output values per sample; for a Conv2D, also the windows the stack multiplies (image_patches)."""
    size = math.prod(layer.output.shape[1:])
    if isinstance(layer, keras.layers.Conv2D):
        size += size // layer.filters * math.prod(layer.kernel.shape[:3])
    return size


def shared_bytes(splits) -> int:
    """Data that replicas share (views of one loaded dataset): on the device once per stack."""
    views = {(x.__array_interface__["data"][0], x.shape): x.nbytes for x in _arrays(splits) if x.base is not None}
    return sum(views.values())


def _arrays(splits) -> list:
    return [splits.x_train, splits.x_test] + ([splits.validation[0]] if splits.validation is not None else [])


def stack_key(trial: TrialSpec, splits) -> str:
    """What replicas of one stack must share; everything else may differ between them."""
    model = dataclasses.replace(trial.model, kernel_initializer=None, kernel_regularizer=None, output_initializer=None,
                                output_regularizer=None, dropout_rate=trial.model.dropout_rate > 0)
    optimizer = dataclasses.replace(trial.optimizer, params={k: v for k, v in trial.optimizer.params.items()
                                                             if k != "learning_rate"})  # per replica
    train = trial.train
    # Early stopping too: trials that stop early and trials that train every epoch would share a stack for a
    # few epochs, then the stack would shrink, compiling each new size (`StackRun._compact`).
    shared = (model, optimizer, train.batch_size, train.steps_per_epoch, train.sampling, train.evaluate_train,
              train.early_stopping, train.loss, train.metrics, splits.validation_name, splits.classes,
              tuple(sorted(splits.sizes.items())))
    return json.dumps(shared, default=str, sort_keys=True)


def _rows(arrays: list) -> tuple[np.ndarray, list]:
    """Arrays of equal length -> (one pool with each distinct array once, each array's row offset).
    Trials that use the same data (views of one array) share its rows, so a stack holds one copy."""
    where, parts, offsets, size = {}, [], [], 0
    for array in arrays:
        key = (array.__array_interface__["data"][0], array.shape, array.strides)
        if key not in where:
            where[key] = size
            parts.append(array)
            size += len(array)
        offsets.append(where[key])
    return np.concatenate(parts), offsets


class Pool:
    """One split's samples for every replica of a stack, on the device, addressed by row."""

    def __init__(self, xs: list, ys: list):
        x, self.offsets = _rows(xs)
        y, _ = _rows(ys)
        self.x, self.y = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)
        self.offsets = np.asarray(self.offsets)[:, None]
        self.samples = len(xs[0])

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Replica-relative rows (replicas, ...) -> pool rows."""
        return (rows + self.offsets.reshape((-1,) + (1,) * (rows.ndim - 1))).astype(np.int32)

    def subset(self, slots: list) -> Pool:
        """The same pool for a stack of the replicas `slots` (indices into this pool's replicas)."""
        pool = copy.copy(self)
        pool.offsets = self.offsets[slots]
        return pool

    def evaluation_positions(self, start: int, stop: int) -> np.ndarray:
        """Pool rows of samples start..stop of every replica, (replicas, n), even where all replicas share
        their samples: taking them once compiles to other products, whose rounding would then depend on
        whether the stack's other replicas share this one's data."""
        return self.positions(np.arange(start, stop)[None, :].repeat(len(self.offsets), axis=0))


@dataclasses.dataclass(frozen=True)
class ReplicaEpochs:
    """Replica-epochs a run computed (every replica of its stacks, stand-in copies and stopped replicas
    included) and used (epochs of trials still training)."""
    computed: int = 0
    used: int = 0

    def __add__(self, other: ReplicaEpochs) -> ReplicaEpochs:
        return ReplicaEpochs(self.computed + other.computed, self.used + other.used)

    def __str__(self) -> str:
        wasted = 1 - self.used / self.computed if self.computed else 0.0
        return f"{self.computed} replica-epochs computed, {self.used} used ({wasted:.1%} wasted)"


class FastEngine:
    name = "fast"

    def __init__(self, settings: dict, results_dir):
        check_keys(settings, SETTINGS, "engine fast")
        settings = {**DEFAULTS, **settings}  # the YAML's defaults, for settings given in part (tests, bench/)
        self.max_replicas = settings["max_replicas"]
        self.memory_bytes = settings["memory_bytes"]
        self.evaluation_rows = settings["evaluation_rows"]
        self.jit_compile = settings["jit_compile"]
        self.checkpoint_seconds = settings["checkpoint_seconds"]
        self.fallback = settings["fallback"]  # run what unsupported() names on engine=keras (or stop)
        require_bool(self.fallback, "engine.fallback")
        for name in ("max_replicas", "evaluation_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"engine fast: {name}={value!r} must be an integer >= 1")
        seconds = self.checkpoint_seconds
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
            raise ConfigError(f"engine fast: checkpoint_seconds={seconds!r} is out of range: a number of seconds >= 0 "
                              "(0: after every epoch), or null for no checkpoints")
        self.artifacts_dir = Path(results_dir) / "artifacts"
        self.checkpoint_dir = Path(results_dir) / "checkpoints"
        self.problems = {}  # unsupported()'s answers by setting: every seed of an arm shares its arm's
        self.replica_epochs = ReplicaEpochs()  # summed over the stacks this engine ran
        require_checked_version()  # its stacks use Keras internals (studies/runtime/keras_internals.py)
        deterministic_ops()

    def unsupported(self, trial: TrialSpec) -> str | None:
        """Why a stack cannot train `trial` (None: it can), from its model and optimizer built on a stand-in
        input, before any data is loaded."""
        key = repr((trial.dataset.classes, trial.model, trial.optimizer, trial.train.callbacks))
        if key not in self.problems:
            with timed("build"):
                self.problems[key] = _problem(trial)
        return self.problems[key]

    def run(self, trials, splits_for, progress):
        stacks = {}
        for trial in trials:
            splits = splits_for(trial)
            stacks.setdefault(stack_key(trial, splits), []).append((trial, splits))
        for members in stacks.values():
            size = self.replicas_per_stack(*members[0])
            for start in range(0, len(members), size):
                yield from self._run_stack(members[start:start + size], progress)

    def replicas_per_stack(self, trial: TrialSpec, splits) -> int:
        """At most max_replicas, and no more than fit in memory_bytes beside the shared data."""
        room, one = self.memory_bytes - shared_bytes(splits), replica_bytes(trial, splits)
        if room < one:
            raise ConfigError(f"engine fast: memory_bytes={self.memory_bytes} is too small for one replica of "
                              f"{trial.study}/{trial.arm} (needs about {shared_bytes(splits) + one} "
                              "bytes with its data): raise engine.memory_bytes")
        return min(self.max_replicas, room // one)

    def _run_stack(self, members: list, progress):
        try:
            yield from StackRun(self, members, progress).train()
        except ConfigError:
            raise
        except Exception as error:  # the stack's trials are stored as failed; the study goes on
            for trial, _ in members:
                yield failed_result(trial, error, device())


def _problem(trial: TrialSpec) -> str | None:
    classes = len(trial.dataset.classes) if trial.dataset.classes else 10  # the built-in datasets' 10
    try:
        layers = build_model(trial.model, STAND_IN_SHAPE[0], classes).layers
    except Exception as error:
        if trial.model.builder is None:  # the MLP's settings were checked at planning: a bug, not a setting
            raise
        raise ConfigError(f"model _target_ {trial.model.builder} failed on a stand-in input of shape {STAND_IN_SHAPE}, "
                          f"which engine=fast builds it on to see its layers: {error}".splitlines()[0]) from None
    callbacks = [type(c) for c in make_callbacks(trial.train.callbacks) if type(c) not in REPLICA_CALLBACKS]
    problems = [*map(layer_problem, layers), optimizer_problem(build_optimizer(trial.optimizer)),
                *(f"callback {c.__name__} is not one a replica can drive; supported: "
                  f"{', '.join(s.__name__ for s in REPLICA_CALLBACKS)}" for c in callbacks)]
    return next((problem for problem in problems if problem is not None), None)


class StackRun:
    """One stack's training: data pools, epoch loop, per-replica callbacks, final evaluation."""

    @timed("build")  # the models, their stack and the data pools
    def __init__(self, engine: FastEngine, members: list, progress):
        self.engine, self.progress = engine, progress
        self.trials = [trial for trial, _ in members]  # the trials reported, then any stand-in copy
        members = members + members[:1] * (MINIMUM_REPLICAS - len(members))
        self.seeds = [source_seed(trial, "dropout") for trial, _ in members]  # each replica's dropout stream
        self.order_seeds = [source_seed(trial, "order") for trial, _ in members]
        self.splits = [splits for _, splits in members]
        first, spec = self.splits[0], self.trials[0].train
        # Sparse targets train as one-hot ones: the same loss by the same ops, so the two arms of fit_basics
        # give the same bits (Keras's sparse kernel rounds differently in the last digit).
        self.classes, self.loss = first.classes, SAME_LOSS.get(spec.loss, spec.loss)
        encode = lambda y: encode_targets(y, self.loss, first.classes)  # noqa: E731
        self.full_pools = {  # every member's data; self.pools: the running stack's replicas'
            "train": Pool([s.x_train for s in self.splits], [encode(s.y_train) for s in self.splits]),
            "validation": None if first.validation is None else Pool(
                [s.validation[0] for s in self.splits], [encode(s.validation[1]) for s in self.splits]),
            "test": Pool([s.x_test for s in self.splits], [encode(s.y_test) for s in self.splits])}
        self.models = []
        for trial, splits in members:
            seed_everything(source_seed(trial, "weights"))  # the initial weights engine=keras starts this trial from
            self.models.append(build_model(trial.model, splits.x_train.shape[1], splits.classes))
        optimizers = [build_optimizer(t.optimizer) for t, _ in members]  # equal but for the learning rate
        self.learning_rates = [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in optimizers]
        self.everyone = list(range(len(members)))  # the stack's members, by index: trials, then any stand-in
        self.full = self._make_stack(self.everyone, optimizers[0])
        self.replicas = [ReplicaModel(self.full, index, model)
                         for index, model in enumerate(self.models[:len(self.trials)])]
        self._use(self.full, self.everyone)
        self.callbacks = [self._callbacks(trial, replica) for trial, replica in zip(self.trials, self.replicas)]
        self.curves = [{} for _ in self.trials]
        self.trial_ids, self.elapsed = [t.trial_id for t, _ in members], 0.0
        self.checkpoints = Checkpoints(engine.checkpoint_dir, engine.checkpoint_seconds, progress.say)

    def _make_stack(self, slots: list, optimizer):
        """A stack of the members `slots` (indices into the stack's members), from their initial weights."""
        y_example = keras.ops.convert_to_numpy(self.full_pools["train"].y[:1])
        return make_stack([self.models[s] for s in slots], optimizer, [self.learning_rates[s] for s in slots],
                          self.loss, list(self.trials[0].train.metrics), [self.seeds[s] for s in slots], y_example,
                          jit_compile=self.engine.jit_compile)

    def _use(self, stack, slots: list) -> None:
        """Train and evaluate on `stack`, whose replica p is member slots[p]; each trial's replica finds its
        weights there (a trial's first slot: the others are stand-in copies)."""
        self.stack, self.slots = stack, slots
        self.pools = {name: pool.subset(slots) for name, pool in self.full_pools.items() if pool is not None}
        for position, member in reversed(list(enumerate(slots))):
            if member < len(self.replicas):
                self.replicas[member].stack, self.replicas[member].index = stack, position

    def _compact(self) -> None:
        """Go on without the replicas that have stopped, once they are IDLE_SHARE of the stack: a stack of the
        live ones (at least MINIMUM_REPLICAS, the first one again as the stand-in), holding their state. A
        replica's arithmetic does not depend on its stack-mates, so its bits stay as they were; only the new stack
        size is compiled (once per program and size: studies.engines.stack_backends keeps it)."""
        live = [r for r, replica in enumerate(self.replicas) if not replica.stopped]
        slots = live + live[:1] * (MINIMUM_REPLICAS - len(live))
        if not live or len(self.slots) - len(slots) < max(1, IDLE_SHARE * len(self.slots)):
            return
        positions = [self.slots.index(member) for member in slots]
        with timed("build"):
            state = [self._replica_rows(array, positions) for array in self.stack.state()]
            stack = self._make_stack(slots, build_optimizer(self.trials[0].optimizer))
            stack.load_state(state)
        if self.stack is not self.full:
            release(self.stack)
        self._use(stack, slots)

    def _replica_rows(self, array: np.ndarray, positions: list) -> np.ndarray:
        """Rows `positions` of a stacked array (weights, per-replica settings, optimizer slots); a scalar
        (the optimizer's step count) is the stack's, kept as it is."""
        if np.ndim(array) == 0:
            return array
        if len(array) != len(self.slots):
            raise ValueError(f"a stack's state array of shape {np.shape(array)} has no replica axis")
        return np.asarray(array)[positions]

    def _full_state(self) -> list:
        """The state of a stack of all members: the running stack's rows at its members' places, the full
        stack's (as they were when compacted away) for the replicas that have stopped."""
        if self.stack is self.full:
            return self.full.state()
        state = [np.array(array) for array in self.full.state()]
        for array, current in zip(state, self.stack.state()):
            if np.ndim(array) == 0:
                array[...] = current
            else:
                array[self.slots] = current
        return state

    def _callbacks(self, trial: TrialSpec, replica: ReplicaModel) -> list:
        # train.callbacks holds REPLICA_CALLBACKS only: trials with others ran on engine=keras
        callbacks, artifacts = trial_callbacks(trial, self.engine.artifacts_dir)
        replica.artifacts += artifacts
        for callback in callbacks:
            callback.set_model(replica)
            callback.on_train_begin()
        return callbacks

    def train(self):
        started = time.perf_counter()
        with timed("train"):  # the epoch loop's host side too (batch order, callbacks); its parts say theirs
            self._epochs(self._resume(), started)
        with timed("evaluate"):
            results = self._final_results(started)
        yield from results
        self.checkpoints.remove(self.trial_ids)  # reached once the harness has stored every result

    def _epochs(self, epoch: int, started: float) -> None:
        """Train every replica from `epoch` until it stops."""
        spec = self.trials[0].train
        samples = self.full_pools["train"].samples
        steps = spec.steps_per_epoch or math.ceil(samples / spec.batch_size)
        while not all(r.stopped for r in self.replicas):
            seeds = [self.order_seeds[member] for member in self.slots]
            logs = self._train_epoch(epoch_batches(seeds, epoch, samples, spec.batch_size, steps, spec.sampling),
                                     epoch * steps)
            if "validation" in self.pools:
                logs = self._logged_evaluation(logs, self.pools["validation"], "val_")
            if spec.evaluate_train:  # inference mode on the training data, as engine=keras's evaluate() callback
                logs = self._logged_evaluation(logs, self.pools["train"], f"{TRAIN_EVALUATION}_")
            self.engine.replica_epochs += ReplicaEpochs(len(self.slots), sum(not r.stopped for r in self.replicas))
            self._end_epoch(epoch, logs)
            self._compact()
            epoch += 1
            if self.checkpoints.due() and not all(r.stopped for r in self.replicas):
                with timed("store"):
                    self.checkpoints.save(self.trial_ids, self._state(epoch, started))

    def _final_results(self, started: float) -> list[TrialResult]:
        """Every trial's final evaluation (its final weights) and result."""
        if self.stack is not self.full:
            release(self.stack)  # done with it: the next stack of its program and size reuses its compiled code
        self._use(self.full, self.everyone)  # the final evaluation: every trial's final weights
        for replica in self.replicas:
            replica.restore_final()
        tests, predictions = self._evaluate(self.pools["test"], keep_predictions=True)
        release(self.full)
        wall = (self.elapsed + time.perf_counter() - started) / len(self.trials)
        return [self._result(r, trial, tests[r], predictions, wall) for r, trial in enumerate(self.trials)]

    def _state(self, epoch: int, started: float) -> dict:
        """What a checkpoint holds (studies.engines.checkpoint)."""
        return {"epoch": epoch, "elapsed": self.elapsed + time.perf_counter() - started, "curves": self.curves,
                "stack": self._full_state(), "replicas": [plain_state(r) for r in self.replicas],
                "callbacks": [[plain_state(c) for c in callbacks] for callbacks in self.callbacks]}

    def _resume(self) -> int:
        """The epoch to start from: 0, or where the stack's last checkpoint left it (its state restored)."""
        state = self.checkpoints.load(self.trial_ids, self.full.check_state)
        if state is None:
            return 0
        self.full.load_state(state["stack"])
        for replica, saved in zip(self.replicas, state["replicas"]):
            restore_state(replica, saved)
        self._use(self.full, self.everyone)  # the replicas' saved places were in the stack of the time
        self._compact()
        for callbacks, saved in zip(self.callbacks, state["callbacks"]):
            for callback, attributes in zip(callbacks, saved):
                restore_state(callback, attributes)
        self.curves, self.elapsed = state["curves"], state["elapsed"]
        self.progress.say(f"    resuming a stack of {len(self.trials)} trials at epoch {state['epoch'] + 1} from "
                          f"{self.checkpoints.path(self.trial_ids)}")
        self.progress.resumed(len(self.trials), state["epoch"], self.trials[0].train.epochs)
        return state["epoch"]

    def _train_epoch(self, segments: list, first_step: int) -> list[dict]:
        samples, sums = 0, [0.0] * (1 + len(self.trials[0].train.metrics))  # loss, then each metric
        for rows in segments:  # (replicas, steps, batch) of one batch size each
            pool = self.pools["train"]
            positions = pool.positions(rows)
            # the sums inside: they wait for the results (JAX dispatches asynchronously)
            with timed(first_call(self.stack, ("train", pool.x.shape, positions.shape), "train")):
                loss, metrics = self.stack.train_steps(pool.x, pool.y, positions, first_step)
                sums = [total + per_replica_sums(values) for total, values in zip(sums, [loss, *metrics])]
            first_step += rows.shape[1]
            samples += rows.shape[1] * rows.shape[2]
        return self._logs(sums, samples, "")

    def _logs(self, sums: list, samples: int, prefix: str) -> list[dict]:
        """Per trial {prefix + loss: mean, prefix + metric: mean...} from the running stack's sums over
        `samples`; {} for a trial that has stopped (no longer in the stack)."""
        names = ["loss", *self.trials[0].train.metrics]
        return [{prefix + name: float(total[self.slots.index(r)] / samples) for name, total in zip(names, sums)}
                if r in self.slots else {} for r in range(len(self.trials))]

    def _logged_evaluation(self, logs: list, pool: Pool, prefix: str) -> list[dict]:
        """Each replica's epoch logs with its loss and metrics on `pool` added under `prefix`."""
        evaluated, _ = self._evaluate(pool, prefix)
        return [{**log, **more} for log, more in zip(logs, evaluated)]

    def _evaluate(self, pool: Pool, prefix: str = "", keep_predictions: bool = False):
        """Inference over all of a pool's samples, in chunks of bounded size: per replica the logs (mean loss
        with regularization, as evaluate() reports it, and metric means), and the predictions if asked for."""
        # A fixed number of rows, whatever the stack and engine settings: a product's rounding depends on its shape.
        chunk = self.engine.evaluation_rows
        sums, predictions = [0.0] * (1 + len(self.trials[0].train.metrics)), []
        for start in range(0, pool.samples, chunk):
            positions = pool.evaluation_positions(start, min(start + chunk, pool.samples))
            with timed(first_call(self.stack, ("evaluate", pool.x.shape, positions.shape), "evaluate")):
                loss, metrics, prediction = self.stack.evaluate_chunk(pool.x, pool.y, positions)
                sums = [total + per_replica_sums(values) for total, values in zip(sums, [loss, *metrics])]
            if keep_predictions:
                predictions.append(prediction)
        sums[0] = sums[0] + self.stack.current_penalties() * pool.samples
        return self._logs(sums, pool.samples, prefix), np.concatenate(predictions, axis=1) if keep_predictions else None

    def _end_epoch(self, epoch: int, logs: list) -> None:
        every_replica = zip(self.replicas, self.trials, self.callbacks, self.curves, logs)
        for replica, trial, callbacks, curves, log in every_replica:
            if replica.stopped:
                continue
            for key, value in log.items():
                curves.setdefault(split_metric(key, self.splits[0].validation_name), []).append(float(value))
            for callback in callbacks:
                callback.on_epoch_end(epoch, log)
            if replica.stop_training or not math.isfinite(log["loss"]) or epoch + 1 >= trial.train.epochs:
                for callback in callbacks:
                    callback.on_train_end()
                replica.stop(epoch + 1)
        active = next((r for r, replica in enumerate(self.replicas) if not replica.stopped), 0)
        self.progress.epoch(self.trials[active], epoch + 1, self.trials[active].train.epochs, logs[active])

    def _result(self, r: int, trial: TrialSpec, final: dict, predictions, wall: float) -> TrialResult:
        final.update(prediction_scores(trial, self.splits[r], lambda: predictions[r]))
        return finished_result(trial, self.splits[r], self.curves[r], final, self.replicas[r].stop_epoch, wall,
                               self.replicas[r].artifacts)
