"""A `Stack` on JAX: weights and optimizer state as arrays, a whole epoch's steps in one jax.jit'd
fori_loop; gradients by jax.grad and updates by the Keras optimizer's own `stateless_apply`."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import keras
import numpy as np

from studies.engines.stack import Stack, to_stacked
from studies.runtime.backend import YNN_FUSIONS
from studies.runtime.keras_internals import stateless_apply_at_rate

# jax.jit takes one fusion type, which replaces XLA's list (dots and reductions among them): YNNPACK's dots only.
CPU_OPTIONS = {YNN_FUSIONS: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}


class JaxStack(Stack):
    def __init__(self, *arguments, **settings):
        super().__init__(*arguments, **settings)
        self.values = [jnp.asarray(value) for value in self.initial]
        self.optimizer.build([keras.Variable(self.initial[position]) for position in self.trainable_positions])
        self.optimizer_values = [v.value for v in self.optimizer.variables]
        self.optimizer_start = [np.array(value) for value in self.optimizer_values]  # copies: training donates these
        options = CPU_OPTIONS if jax.default_backend() == "cpu" else None
        jit = (functools.partial(jax.jit, compiler_options=options) if self.jit_compile
               else (lambda function, **_: function))
        self.compiled_steps = jit(self._train_steps, donate_argnums=(0, 1))  # seeds are an input: see restart
        self.compiled_evaluation = jit(self.evaluation)

    def replica_uniform(self, shape, stream):
        draw = lambda seed: jax.random.uniform(jax.random.fold_in(jax.random.PRNGKey(seed), stream), shape)  # noqa: E731
        return jax.vmap(draw)(self.traced_seeds)

    def train_steps(self, x_pool, y_pool, positions: np.ndarray, first_step: int):
        self.values, self.optimizer_values, loss, metrics = self.compiled_steps(
            self.values, self.optimizer_values, jnp.asarray(self.seeds, jnp.uint32), x_pool, y_pool,
            jnp.asarray(positions), first_step)
        return np.asarray(loss), [np.asarray(m) for m in metrics]

    def _train_steps(self, values, optimizer_values, seeds, x_pool, y_pool, positions, first_step):
        """As TensorFlowStack.train_steps, with the state passed in and out."""
        self.traced_seeds = seeds  # what replica_uniform draws with
        def step(s, carry):
            values, optimizer_values, loss_sums, metric_sums = carry
            x, y = jnp.take(x_pool, positions[:, s], axis=0), jnp.take(y_pool, positions[:, s], axis=0)

            def total(trainable):
                losses, sample_losses, prediction, moving = self.training_losses(
                    self._merge(values, trainable), x, y, first_step + s)
                return jnp.sum(losses), (sample_losses, prediction, moving)

            trainable = [values[p] for p in self.trainable_positions]
            gradients, (sample_losses, prediction, moving) = jax.grad(total, has_aux=True)(trainable)
            trainable, optimizer_values = stateless_apply_at_rate(
                self.optimizer, values[self.learning_rate_position], optimizer_values, gradients, trainable)
            values = self._merge(values, trainable)
            values = [moving.get(position, value) for position, value in enumerate(values)]
            metric_sums = [m + v for m, v in zip(metric_sums, self.sample_metrics(y, prediction))]
            return values, optimizer_values, loss_sums + sample_losses, metric_sums

        zeros = jnp.zeros([self.replicas, positions.shape[2]])  # positions: (replicas, steps, batch)
        start = (values, optimizer_values, zeros, [zeros for _ in self.metric_objects])
        return jax.lax.fori_loop(0, positions.shape[1], step, start)

    def _merge(self, values: list, trainable: list) -> list:
        merged = list(values)
        for position, value in zip(self.trainable_positions, trainable):
            merged[position] = value
        return merged

    def current_values(self) -> list:
        return self.values

    def set_replica_weights(self, replica: int, values: list) -> None:
        for position, value in enumerate(values):  # the model's weights, then per-replica settings unchanged
            self.values[position] = self.values[position].at[replica].set(to_stacked(np.asarray(value)))

    def state(self) -> list:
        return [np.asarray(value) for value in [*self.values, *self.optimizer_values]]

    def load_state(self, arrays: list) -> None:
        arrays = [jnp.asarray(value) for value in arrays]
        self.values, self.optimizer_values = arrays[:len(self.values)], arrays[len(self.values):]
