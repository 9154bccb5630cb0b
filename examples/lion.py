"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675) as a Keras 3
optimizer: the kind of class a user brings to a study as `optimizer: {_target_: examples.lion.Lion, ...}`.

Each step moves every weight by the learning rate times the sign of an interpolation between the gradient
and a momentum, then updates the momentum at a slower rate:
    c = beta_1 * m + (1 - beta_1) * g;   w -= lr * sign(c);   m = beta_2 * m + (1 - beta_2) * g
Keras 3 ships a Lion as well; this one is written out to show what a custom optimizer needs (a momentum slot
per weight in `build`, the rule in `update_step`, its settings in `get_config`), and tests/test_examples.py
checks it against Keras's, step for step.
"""
import keras
from keras import ops


class Lion(keras.optimizers.Optimizer):
    def __init__(self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, name="lion", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [self.add_variable_from_reference(variable, "momentum") for variable in variables]

    def update_step(self, gradient, variable, learning_rate):
        momentum = self.momentums[self._get_variable_index(variable)]
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.sign(ops.add(ops.multiply(momentum, self.beta_1), ops.multiply(gradient, 1.0 - self.beta_1)))
        self.assign_sub(variable, ops.multiply(ops.cast(learning_rate, variable.dtype), step))
        self.assign(momentum, ops.add(ops.multiply(momentum, self.beta_2), ops.multiply(gradient, 1.0 - self.beta_2)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
