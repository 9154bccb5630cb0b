"""The Keras 2.2 optimizers against NumPy transcriptions of Keras 2.2's own update code."""
import keras
import numpy as np
import pytest

from studies.engines.legacy_optimizers import Keras2Adagrad, Keras2Nadam

GRADIENTS = [np.array([1e-5, -0.3, 2.0], np.float32), np.array([3e-5, 0.1, -1.0], np.float32),
             np.array([-2e-5, 0.2, 0.5], np.float32)] * 4


def run_keras(optimizer, start):
    variable = keras.Variable(start.copy())
    for gradient in GRADIENTS:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), variable)])
    return variable.numpy()


def keras22_adagrad(start, lr, eps=1e-7):
    p, a = start.astype(np.float64), np.zeros_like(start, np.float64)
    for g in GRADIENTS:
        a = a + g ** 2
        p = p - lr * g / (np.sqrt(a) + eps)
    return p


def keras22_nadam(start, lr=0.002, beta_1=0.9, beta_2=0.999, eps=1e-7, schedule_decay=0.004):
    p, m, v, m_schedule = start.astype(np.float64), 0.0, 0.0, 1.0
    for t, g in enumerate(GRADIENTS, start=1):
        momentum_t = beta_1 * (1.0 - 0.5 * 0.96 ** (t * schedule_decay))
        momentum_next = beta_1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * momentum_t
        m_schedule_next = m_schedule * momentum_t * momentum_next
        m_schedule = m_schedule_new
        g_prime = g / (1.0 - m_schedule_new)
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g ** 2
        m_bar = (1.0 - momentum_t) * g_prime + momentum_next * m / (1.0 - m_schedule_next)
        p = p - lr * m_bar / (np.sqrt(v / (1.0 - beta_2 ** t)) + eps)
    return p


START = np.array([0.5, -0.5, 1.0], np.float32)


def test_keras2_adagrad_matches_keras22_and_starts_at_zero():
    np.testing.assert_allclose(run_keras(Keras2Adagrad(learning_rate=0.1), START), keras22_adagrad(START, 0.1),
                               rtol=1e-5)
    fresh = Keras2Adagrad(learning_rate=0.1)
    fresh.build([keras.Variable(START)])
    assert np.all(fresh._accumulators[0].numpy() == 0.0)


def test_keras3_adagrad_from_zero_differs_where_gradients_are_tiny():
    """Why the subclass exists: Keras 3 puts epsilon inside the square root."""
    keras3 = run_keras(keras.optimizers.Adagrad(0.1, initial_accumulator_value=0.0), START)
    assert abs(keras3[0] - keras22_adagrad(START, 0.1)[0]) > 0.1


def test_keras2_nadam_matches_keras22_schedule():
    np.testing.assert_allclose(run_keras(Keras2Nadam(), START), keras22_nadam(START), rtol=1e-5)


def test_keras2_nadam_with_unit_schedule_decay_is_keras3_nadam():
    ours = run_keras(Keras2Nadam(learning_rate=0.001, schedule_decay=1.0), START)
    np.testing.assert_allclose(ours, run_keras(keras.optimizers.Nadam(0.001), START), rtol=1e-6)


def test_legacy_defaults_are_the_keras22_ones():
    nadam = Keras2Nadam()
    assert float(nadam.learning_rate) == pytest.approx(0.002) and nadam.schedule_decay == 0.004
    assert Keras2Adagrad().initial_accumulator_value == 0.0
