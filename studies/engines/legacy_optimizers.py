"""Keras 2.2 optimizer behaviour that Keras 3 changed, as subclasses of Keras 3's own optimizers.

Article 001 ran Keras 2.2. Two of its optimizers update differently in Keras 3 beyond their defaults:
- Adagrad: Keras 2.2 starts the accumulator at 0 and divides by sqrt(acc) + eps; Keras 3 starts at 0.1
  (by default) and divides by sqrt(acc + eps). From a zero accumulator the two differ by orders of
  magnitude for small gradients, so only the Keras 2.2 formula reproduces the original.
- Nadam: Keras 2.2 warms the momentum up as 0.96 ** (t * schedule_decay) with schedule_decay 0.004;
  Keras 3 hard-codes 0.96 ** t. Since (0.96 ** 0.004) ** t is the same schedule, the subclass repeats
  Keras 3's Nadam update with only the base of that power swapped (Keras 3 offers no argument for it).
"""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="studybench")
class Keras2Adagrad(keras.optimizers.Adagrad):
    """Adagrad as Keras 2.2 ran it: accumulator starts at 0, p -= lr * g / (sqrt(acc) + epsilon)."""

    def __init__(self, learning_rate=0.01, epsilon=1e-7, name="keras2_adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, initial_accumulator_value=0.0, epsilon=epsilon,
                         name=name, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(accumulator, ops.square(gradient))
        step = ops.divide(ops.multiply(lr, gradient), ops.add(ops.sqrt(accumulator), self.epsilon))
        self.assign_sub(variable, step)

    def get_config(self):
        config = super().get_config()
        config.pop("initial_accumulator_value")
        return config


@keras.saving.register_keras_serializable(package="studybench")
class Keras2Nadam(keras.optimizers.Nadam):
    """Nadam as Keras 2.2 ran it: learning rate 0.002, momentum schedule 0.96 ** (t * schedule_decay)."""

    def __init__(self, learning_rate=0.002, schedule_decay=0.004, name="keras2_nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.schedule_decay = schedule_decay

    def _schedule_base(self, dtype):
        return ops.cast(0.96**self.schedule_decay, dtype)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        dtype = self._u_product.dtype
        step = ops.cast(self.iterations + 1, dtype)
        momentum_t = self.beta_1 * (1.0 - 0.5 * ops.power(self._schedule_base(dtype), step))
        self.assign(self._u_product, self._u_product * momentum_t)
        # Skip Nadam's own u_product update (done above with the Keras 2.2 schedule).
        super(keras.optimizers.Nadam, self)._backend_update_step(grads, trainable_variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        base = self._schedule_base(dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        u_t = beta_1 * (1.0 - 0.5 * ops.power(base, step))
        u_next = beta_1 * (1.0 - 0.5 * ops.power(base, step + 1))
        u_product_t = ops.cast(self._u_product, dtype)
        u_product_next = u_product_t * u_next
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - beta_2))
        m_hat = ops.add(ops.divide(ops.multiply(u_next, m), 1 - u_product_next),
                        ops.divide(ops.multiply(1 - u_t, gradient), 1 - u_product_t))
        v_hat = ops.divide(v, 1 - ops.power(beta_2, step))
        self.assign_sub(variable, ops.divide(ops.multiply(m_hat, lr), ops.add(ops.sqrt(v_hat), self.epsilon)))

    def get_config(self):
        return {**super().get_config(), "schedule_decay": self.schedule_decay}


LEGACY_OPTIMIZERS = {cls.__name__: cls for cls in (Keras2Adagrad, Keras2Nadam)}
