"""A `Stack` on TensorFlow: tf.Variables, a whole epoch's steps in one XLA-compiled tf.function."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from studies.engines.stack import Stack, to_stacked


class TensorFlowStack(Stack):
    def __init__(self, *arguments, **settings):
        super().__init__(*arguments, **settings)
        self.weights = [tf.Variable(value, trainable=position in self.trainable_positions)
                        for position, value in enumerate(self.initial)]
        self.trainable = [self.weights[position] for position in self.trainable_positions]
        self.seed_tensor = tf.constant(self.seeds, tf.int64)
        self.optimizer.build(self.trainable)
        self.compiled_steps = tf.function(self._train_steps, jit_compile=self.jit_compile)
        self.compiled_evaluation = tf.function(self.evaluation, jit_compile=self.jit_compile)

    def current_learning_rate(self):
        return self.weights[self.learning_rate_position]

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
        shape = tf.gather(tf.shape(positions), [0, 2])  # positions: (replicas, steps, batch)
        loss_sums = tf.zeros(shape)
        metric_sums = [tf.zeros(shape) for _ in self.metric_objects]
        for s in tf.range(tf.shape(positions)[1]):
            x, y = tf.gather(x_pool, positions[:, s]), tf.gather(y_pool, positions[:, s])
            with tf.GradientTape() as tape:
                losses, sample_losses, prediction, moving = self.training_losses(
                    self.weights, x, y, first_step + tf.cast(s, tf.int64))
                total = tf.reduce_sum(losses)
            for position, value in moving.items():
                self.weights[position].assign(value)
            self.optimizer.apply(tape.gradient(total, self.trainable), self.trainable)
            loss_sums += sample_losses
            metric_sums = [m + v for m, v in zip(metric_sums, self.sample_metrics(y, prediction))]
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
