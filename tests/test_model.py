import keras
import numpy as np
import pytest

from studies.config.settings import ConfigError, ModelSpec, OptimizerSpec
from studies.engines.model import build_model, build_optimizer, check_model
from studies.runtime.seeding import seed_everything


def layer_types(model):
    return [type(layer).__name__ for layer in model.layers[1:]]


def test_plain_mlp_matches_the_original_architecture():
    model = build_model(ModelSpec(hidden_units=(100,) * 4, activation="sigmoid"), 784, 10)
    assert layer_types(model) == ["Dense"] * 5
    dense = model.layers[1:]
    assert [layer.units for layer in dense] == [100, 100, 100, 100, 10]
    assert all(layer.activation is keras.activations.sigmoid for layer in dense[:4])
    assert dense[-1].activation is keras.activations.softmax
    assert all(type(layer.kernel_initializer).__name__ == "GlorotUniform" for layer in dense)
    assert model.count_params() == 784 * 100 + 100 + 3 * (100 * 100 + 100) + 100 * 10 + 10


def test_batch_norm_sits_between_dense_and_activation_and_dropout_after():
    spec = ModelSpec(hidden_units=(32, 16), batch_norm=True, dropout_rate=0.15)
    model = build_model(spec, 20, 3)
    assert layer_types(model) == ["Dense", "BatchNormalization", "Activation", "Dropout"] * 2 + ["Dense"]
    assert model.layers[1].activation is keras.activations.linear
    assert model.layers[3].activation is keras.activations.relu
    assert model.layers[4].rate == 0.15


def test_batch_norm_takes_keras_defaults_or_the_books_settings():
    keras_default, book = (build_model(ModelSpec(hidden_units=(8,), batch_norm=True, **settings), 4, 2).layers[2]
                           for settings in ({}, {"batch_norm_momentum": 0.9, "batch_norm_epsilon": 1e-6,
                                                 "batch_norm_moving_variance_initializer": "zeros"}))
    assert (keras_default.momentum, keras_default.epsilon) == (0.99, 1e-3)
    assert np.all(keras_default.moving_variance.numpy() == 1.0)
    assert (book.momentum, book.epsilon) == (0.9, 1e-6) and np.all(book.moving_variance.numpy() == 0.0)


def test_initializer_and_regularizer_apply_to_hidden_kernels_only():
    spec = ModelSpec(hidden_units=(50, 50), kernel_initializer={"name": "RandomNormal", "mean": 0.0, "stddev": 0.01},
                     kernel_regularizer={"name": "L2", "l2": 0.1})
    seed_everything(0)
    model = build_model(spec, 784, 10)
    hidden, output = model.layers[1:3], model.layers[-1]
    for layer in hidden:
        assert type(layer.kernel_initializer).__name__ == "RandomNormal"
        assert float(layer.kernel_regularizer.l2) == pytest.approx(0.1)
    assert abs(float(np.std(hidden[0].kernel.numpy())) - 0.01) < 0.001
    assert output.kernel_regularizer is None and type(output.kernel_initializer).__name__ == "GlorotUniform"


def test_he_uniform_by_name_has_the_he_limit():
    seed_everything(0)
    model = build_model(ModelSpec(hidden_units=(400,), kernel_initializer="he_uniform"), 784, 10)
    kernel = model.layers[1].kernel.numpy()
    assert np.abs(kernel).max() <= np.sqrt(6 / 784) and np.abs(kernel).max() > 0.95 * np.sqrt(6 / 784)


def test_same_seed_same_architecture_same_initial_weights():
    spec = ModelSpec(hidden_units=(30, 30))
    weights = []
    for seed in (3, 3, 4):
        seed_everything(seed)
        weights.append(build_model(spec, 12, 4).get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(weights[0], weights[1]))
    assert not np.array_equal(weights[0][0], weights[2][0])


def test_optimizer_from_name_and_parameters():
    optimizer = build_optimizer(OptimizerSpec("Adadelta", {"learning_rate": 0.1}))
    assert isinstance(optimizer, keras.optimizers.Adadelta)
    assert float(optimizer.learning_rate) == pytest.approx(0.1) and optimizer.rho == 0.95


@pytest.mark.parametrize("spec, message", [
    (ModelSpec(activation="swishy"), "unknown activation 'swishy'; valid: .*relu"),
    (ModelSpec(kernel_initializer="glorot_unicorn"), "unknown initializer 'glorot_unicorn'; valid: .*HeUniform"),
    (ModelSpec(kernel_initializer={"name": "RandomNormal", "sigma": 1}), "initializer RandomNormal: bad argument"),
    (ModelSpec(kernel_regularizer={"name": "L3"}), "unknown regularizer 'L3'; valid: .*L2"),
    (ModelSpec(batch_norm_moving_variance_initializer="nought"), "unknown initializer 'nought'; valid: .*Zeros"),
])
def test_bad_model_names_are_rejected_with_the_valid_ones(spec, message):
    with pytest.raises(ConfigError, match=message):
        check_model(spec)


def test_bad_optimizer_names_and_arguments_are_rejected():
    with pytest.raises(ConfigError, match="unknown optimizer 'Adamm'; valid: .*Adam.*Keras2Nadam"):
        build_optimizer(OptimizerSpec("Adamm"))
    with pytest.raises(ConfigError, match="optimizer SGD: bad argument.*lr"):
        build_optimizer(OptimizerSpec("SGD", {"lr": 0.1}))  # Keras 3 rejects the Keras 2 spelling
