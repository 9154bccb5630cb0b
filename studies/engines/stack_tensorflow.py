"""A `Stack` on TensorFlow: tf.Variables, a whole epoch's steps in one XLA-compiled tf.function."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from studies.engines.stack import Stack, to_stacked
from studies.runtime.backend import deterministic_ops, require_reductions_in_xla_loops
from studies.runtime.keras_internals import apply_at_rate


class TensorFlowStack(Stack):
    def __init__(self, *arguments, **settings):
        deterministic_ops()  # as engine=fast sets them, for a stack made without it
        super().__init__(*arguments, **settings)
        if self.jit_compile:
            require_reductions_in_xla_loops()
        self.weights = [tf.Variable(value, trainable=position in self.trainable_positions)
                        for position, value in enumerate(self.initial)]
        self.trainable = [self.weights[position] for position in self.trainable_positions]
        self.seed_tensor = tf.Variable(self.seeds, dtype=tf.int64, trainable=False)  # a variable: see restart
        self.optimizer.build(self.trainable)
        self.optimizer_start = [v.numpy() for v in self.optimizer.variables]
        # autograph=False: the step loop is an explicit tf.while_loop, and autograph's conversion of every
        # function the trace calls (Keras's optimizer, the forward pass) cost more than the tracing itself.
        self.compiled_steps = tf.function(self._train_steps, jit_compile=self.jit_compile, autograph=False)
        self.compiled_evaluation = tf.function(self.evaluation, jit_compile=self.jit_compile, autograph=False)

    def restart(self, models: list, learning_rates: list, seeds: list) -> None:
        super().restart(models, learning_rates, seeds)
        self.seed_tensor.assign(seeds)

    def replica_uniform(self, shape, stream):
        return tf.stack([tf.random.stateless_uniform(shape, seed=tf.stack([self.seed_tensor[r], stream]))
                         for r in range(self.replicas)])

    def train_steps(self, x_pool, y_pool, positions: np.ndarray, first_step: int):
        """Train on batches positions[:, s] ((replicas, batch) rows of the pools) for every s; return per
        replica and batch position the sums over steps of each sample's loss (with regularization) and metric
        values, (replicas, batch) each."""
        loss, metrics = self.compiled_steps(x_pool, y_pool, tf.constant(positions), tf.constant(first_step, tf.int64))
        return loss.numpy(), [m.numpy() for m in metrics]

    def _train_steps(self, x_pool, y_pool, positions, first_step):
        steps = tf.shape(positions)[1]  # positions: (replicas, steps, batch)

        def step(s, loss_sums, *metric_sums):
            x, y = tf.gather(x_pool, positions[:, s]), tf.gather(y_pool, positions[:, s])
            with tf.GradientTape() as tape:
                losses, sample_losses, prediction, moving = self.training_losses(
                    self.weights, x, y, first_step + tf.cast(s, tf.int64))
                total = tf.reduce_sum(losses)
            for position, value in moving.items():
                self.weights[position].assign(value)
            apply_at_rate(self.optimizer, self.weights[self.learning_rate_position],
                          tape.gradient(total, self.trainable), self.trainable)
            metrics = [m + v for m, v in zip(metric_sums, self.sample_metrics(y, prediction))]
            return (s + 1, loss_sums + sample_losses, *metrics)

        zeros = tf.zeros(tf.gather(tf.shape(positions), [0, 2]))
        _, loss_sums, *metric_sums = tf.while_loop(lambda s, *sums: s < steps, step,
                                                   (tf.constant(0), zeros, *[zeros for _ in self.metric_objects]))
        return loss_sums, metric_sums

    def current_values(self) -> list:
        return self.weights

    def set_replica_weights(self, replica: int, values: list) -> None:
        for weight, value in zip(self.weights, values):
            weight[replica].assign(to_stacked(np.asarray(value)))

    def state(self) -> list:
        return [v.numpy() for v in [*self.weights, *self.optimizer.variables]]

    def load_state(self, arrays: list) -> None:
        for variable, value in zip([*self.weights, *self.optimizer.variables], arrays):
            variable.assign(value)
