"""A hand-written JAX ensemble loop: what a JAX user writes to train many seeds at once, `jax.vmap` over the
replicas of a plain MLP and an optax optimizer, one `jax.lax.scan` over an epoch's steps. It trains the
workload's replicas as engine=fast does (the same initial weights, data, batch order and per-epoch
validation), without what makes engine=fast reproducible: no product per replica (one batched dot), no
reductions kept out of YNNPACK (its worker runs without that XLA flag), the loss a mean on the device (not
per-sample losses summed on the host). The benchmarks time it beside engine=fast: the gap is the cost of
being reproducible.

Dense MLPs only (the benchmarked workloads: B1's and B2's); anything else is refused with the reason.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax

from bench.stepping import EpochStepper
from studies.engines.batches import epoch_batches
from studies.engines.labels import encode_targets
from studies.engines.model import build_model, build_optimizer
from studies.runtime.seeding import seed_everything

ACTIVATIONS = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jax.nn.tanh, "linear": lambda x: x}


def optax_optimizer(keras_optimizer: keras.optimizers.Optimizer) -> optax.GradientTransformation:
    """The optax twin of the trial's Keras optimizer (its settings read from the built one)."""
    config, name = keras_optimizer.get_config(), type(keras_optimizer).__name__
    if name == "SGD":
        return optax.sgd(config["learning_rate"], config["momentum"] or None, config["nesterov"])
    if name == "Adam" and not config["amsgrad"]:
        return optax.adam(config["learning_rate"], config["beta_1"], config["beta_2"], config["epsilon"])
    raise ValueError(f"vmap loop: no optax twin of {name} {config}; valid: SGD, Adam (amsgrad off)")


def initial_layers(trial, features: int, classes) -> tuple[list[dict], list]:
    """The trial's model as engine=fast builds it (build_model under the trial's seed): each Dense layer's
    weights {"kernel", "bias"}, and its activation functions (the softmax output left as logits)."""
    seed_everything(trial.seed)
    model = build_model(trial.model, features, classes)
    dense = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    unsupported = [type(layer).__name__ for layer in dense if type(layer) is not keras.layers.Dense]
    if unsupported or dense[-1].get_config()["activation"] != "softmax":
        raise ValueError("vmap loop: Dense layers with a softmax output only; the model has "
                         f"{unsupported or 'no softmax'}")
    weights = [{"kernel": jnp.asarray(layer.kernel.numpy()), "bias": jnp.asarray(layer.bias.numpy())}
               for layer in dense]
    return weights, [ACTIVATIONS[layer.get_config()["activation"]] for layer in dense[:-1]]


def logits(activations: list, weights: list[dict], x):
    for layer, activation in zip(weights, activations):
        x = activation(x @ layer["kernel"] + layer["bias"])
    return x @ weights[-1]["kernel"] + weights[-1]["bias"]


def shared_or_stacked(arrays: list[np.ndarray]) -> tuple[jnp.ndarray, int | None]:
    """One copy and vmap axis None where every replica has the same array (B1's data), else stacked on axis 0."""
    if all(np.array_equal(arrays[0], other) for other in arrays[1:]):
        return jnp.asarray(arrays[0]), None
    return jnp.asarray(np.stack(arrays)), 0


class VmapEnsemble:
    """The workload's replicas, trained epoch by epoch; each epoch's per-replica training loss (the mean over
    its samples, as model.fit logs it) and, with validation data, validation loss and accuracy."""

    def __init__(self, workload):
        self.trials = workload.trials("fast")
        splits = [workload.splits(trial) for trial in self.trials]
        first, self.spec = splits[0], self.trials[0].train
        if self.spec.loss != "categorical_crossentropy":
            raise ValueError(f"vmap loop: loss categorical_crossentropy only, not {self.spec.loss!r}")
        encode = functools.partial(encode_targets, loss=self.spec.loss, classes=first.classes)
        self.x, self.x_axis = shared_or_stacked([s.x_train for s in splits])
        self.y, _ = shared_or_stacked([encode(s.y_train) for s in splits])
        self.validation = None if first.validation is None else (
            shared_or_stacked([s.validation[0] for s in splits]),
            shared_or_stacked([encode(s.validation[1]) for s in splits]))
        self.validation_axis = None if self.validation is None else self.validation[0][1]
        layers = [initial_layers(trial, first.x_train.shape[1], first.classes) for trial in self.trials]
        self.activations = layers[0][1]
        self.weights = jax.tree.map(lambda *replicas: jnp.stack(replicas), *[weights for weights, _ in layers])
        self.optimizer = optax_optimizer(build_optimizer(self.trials[0].optimizer))
        self.state = jax.vmap(self.optimizer.init)(self.weights)
        self.samples = len(first.x_train)
        self.steps = self.spec.steps_per_epoch or math.ceil(self.samples / self.spec.batch_size)
        self._epoch = jax.jit(self._run_epoch)
        self._validate = jax.jit(self._run_validation)

    def _loss(self, weights, x, y):
        return optax.softmax_cross_entropy(logits(self.activations, weights, x), y).mean()

    def _replica_step(self, weights, state, x, y, rows):
        loss, gradients = jax.value_and_grad(self._loss)(weights, x[rows], y[rows])
        updates, state = self.optimizer.update(gradients, state, weights)
        return optax.apply_updates(weights, updates), state, loss

    def _run_epoch(self, weights, state, x, y, positions):
        """positions: (replicas, steps, batch) rows, the steps scanned in order, the replicas vmapped."""
        step = jax.vmap(self._replica_step, in_axes=(0, 0, self.x_axis, self.x_axis, 0))

        def body(carry, rows):
            weights, state, loss = step(*carry, x, y, rows)
            return (weights, state), loss
        (weights, state), losses = jax.lax.scan(body, (weights, state), jnp.swapaxes(positions, 0, 1))
        return weights, state, losses.sum(axis=0)  # (replicas,): the sum of the steps' mean losses

    def _run_validation(self, weights, x, y):
        def replica(weights, x, y):
            predicted = logits(self.activations, weights, x)
            return (optax.softmax_cross_entropy(predicted, y).mean(),
                    (predicted.argmax(axis=-1) == y.argmax(axis=-1)).mean())
        return jax.vmap(replica, in_axes=(0, self.validation_axis, self.validation_axis))(weights, x, y)

    def train_epoch(self, epoch: int) -> dict:
        """One epoch of every replica -> {"loss": (replicas,), and "val_loss", "val_accuracy" with validation}."""
        loss_sum, samples = np.zeros(len(self.trials)), 0
        for positions in epoch_batches([t.seed for t in self.trials], epoch, self.samples, self.spec.batch_size,
                                       self.steps, self.spec.sampling):
            self.weights, self.state, losses = self._epoch(self.weights, self.state, self.x, self.y,
                                                           jnp.asarray(positions, jnp.int32))
            loss_sum += np.asarray(losses) * positions.shape[2]  # a run's batches are all one size
            samples += positions.shape[1] * positions.shape[2]
        logs = {"loss": loss_sum / samples}
        if self.validation is not None:
            (x, _), (y, _) = self.validation
            logs["val_loss"], logs["val_accuracy"] = map(np.asarray, self._validate(self.weights, x, y))
        return logs


def vmap_stepper(workload) -> EpochStepper:
    """The vmap ensemble training the workload's replicas, epoch by epoch (bench/stepping.py)."""
    ensemble = VmapEnsemble(workload)

    def train(progress) -> None:
        for epoch in range(ensemble.spec.epochs):
            progress.epoch(epoch, ensemble.train_epoch(epoch))
    return EpochStepper(train)
