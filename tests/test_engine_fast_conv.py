"""engine=fast on convolutional models: each layer as model.fit computes it, the same bits in any stack, and
the settings it cannot stack rejected. Tiny images and layers keep it quick: arithmetic, not accuracy."""
import dataclasses

import keras
import numpy as np
import pytest

from studies.config.settings import ConfigError, ConvolutionSpec, ModelSpec, validate_model, with_convolutions
from studies.engines.model import build_model
from studies.engines.stack_backends import make_stack
from tests.helpers import assert_same_bits, assert_same_curves, run_fast, run_keras, variant

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

SMALL = {"train_first": 128, "test_first": 100}
IMAGES = (28, 28, 1)
LENET = {"convolutions": (ConvolutionSpec(4, (3, 3), padding="same", pool="max"),
                          ConvolutionSpec(6, (3, 3), pool="average")),
         "input_shape": IMAGES, "hidden_units": (16,)}
STRIDED = {"convolutions": (ConvolutionSpec(4, (3, 2), strides=(2, 1), padding="same", pool="max", pool_size=3),
                            ConvolutionSpec(5, (2, 2), strides=(2, 2), padding="same")),
           "input_shape": IMAGES, "hidden_units": (8,), "global_pooling": True}
CASES = {  # arm: (optimizer, model settings); together every new layer, both paddings, strides and poolings
    "lenet_l2": ("RMSprop", {**LENET, "kernel_regularizer": {"name": "L2", "l2": 0.01}}),
    "strided_global_pooling": ("SGD", STRIDED),
}


def conv_trial(base, arm):
    optimizer, model = CASES[arm]
    return variant(base, arm, optimizer, model=model, train={"epochs": 2, "batch_size": 32}, dataset=SMALL)


@pytest.mark.parametrize("arm", CASES)
def test_a_conv_replica_matches_model_fit(arm, base_trial, fashion_mnist, tmp_path):
    """Same tolerance as the MLPs' (1e-4 relative): the stack convolves by products of image patches, Keras by
    its convolution op, so only the summation order differs."""
    trial = conv_trial(base_trial, arm)
    result = run_fast([trial], fashion_mnist, tmp_path)[(arm, 0)]
    keras_fit = run_keras(dataclasses.replace(trial, engine="keras"), fashion_mnist, tmp_path)
    assert result.status == keras_fit.status == "ok", result.message
    assert_same_curves(result, keras_fit, relative=1e-4)
    assert result.final == pytest.approx(keras_fit.final, rel=1e-4)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the bits are promised on TensorFlow")
def test_a_conv_trial_trains_to_the_same_bits_alone_and_together(base_trial, fashion_mnist, tmp_path):
    """Two arms that differ in dropout rate and epochs, each trial trained alone (a stack of 2: itself and
    its stand-in copy), then all three in one stack."""
    first = [variant(base_trial, "lenet_dropout", "Adam", seed=seed, dataset=SMALL,
                     model={**LENET, "dropout_rate": 0.2}, train={"epochs": 4}) for seed in range(2)]
    second = variant(base_trial, "lenet_more_dropout", "Adam", dataset=SMALL, model={**LENET, "dropout_rate": 0.4},
                     train={"epochs": 3})
    alone = run_fast([*first, second], fashion_mnist, tmp_path, max_replicas=1)
    assert_same_bits(run_fast([second, *first], fashion_mnist, tmp_path), alone)
    assert alone[("lenet_dropout", 0)].curves != alone[("lenet_dropout", 1)].curves  # the seeds really differ


def image_model(*layers) -> keras.Model:
    inputs = keras.Input(shape=(64,))
    x = keras.layers.Reshape((8, 8, 1))(inputs)
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x)))


def stacked(*layers):
    """Two replicas of image_model(*layers) (seeds 0 and 1) as a Stack, and the Keras models."""
    models = []
    for seed in range(2):
        keras.utils.set_random_seed(seed)
        models.append(image_model(*(keras.layers.deserialize(keras.layers.serialize(layer)) for layer in layers)))
    stack = make_stack(models, keras.optimizers.SGD(), [0.01, 0.01], "categorical_crossentropy", ["accuracy"],
                       [0, 1], np.eye(3, dtype=np.float32)[:1])
    return stack, models


def test_layers_the_specs_do_not_build_predict_as_keras_does():
    """Conv2D without bias, batch norm and dropout on images, inference mode (moving statistics, no dropout)."""
    stack, models = stacked(keras.layers.Conv2D(3, 3, use_bias=False, padding="same"),
                            keras.layers.BatchNormalization(moving_variance_initializer="random_uniform"),
                            keras.layers.Dropout(0.3), keras.layers.AveragePooling2D(3, strides=2, padding="same"))
    x = np.random.default_rng(0).random((10, 64), np.float32)
    positions = np.stack([np.arange(10)] * 2).astype(np.int32)
    _, _, predictions = stack.evaluate_chunk(keras.ops.convert_to_tensor(x), keras.ops.zeros((10, 3)), positions)
    for replica, model in enumerate(models):
        np.testing.assert_allclose(predictions[replica], model.predict(x, verbose=0), rtol=1e-5)
        for mine, theirs in zip(stack.replica_weights(replica), model.get_weights()):
            np.testing.assert_array_equal(mine, theirs)  # kernels (3, 3, 1, 3) round-trip through the stack


@pytest.mark.parametrize("layer, message", [
    (keras.layers.Conv2D(2, 3, dilation_rate=2), r"Conv2D dilation_rate=\(2, 2\) is not supported; valid: \(1, 1\)"),
    (keras.layers.Conv2D(2, 3, padding="same", data_format="channels_first"),
     "Conv2D data_format='channels_first' is not supported; valid: 'channels_last'"),
    (keras.layers.MaxPooling2D(padding="same", data_format="channels_first"),
     "MaxPooling2D data_format='channels_first'"),
    (keras.layers.DepthwiseConv2D(3), "layer DepthwiseConv2D is not supported; supported: .*Conv2D"),
])
def test_layers_engine_fast_cannot_stack_are_rejected_in_one_line(layer, message):
    with pytest.raises(ConfigError, match=message):
        stacked(layer)


def test_grouped_convolutions_are_rejected():
    inputs = keras.Input(shape=(8, 8, 2))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, groups=2)(inputs))
    with pytest.raises(ConfigError, match="Conv2D groups=2 is not supported; valid: 1"):
        make_stack([model, model], keras.optimizers.SGD(), [0.1, 0.1], "mean_squared_error", [], [0, 1],
                   np.zeros((1, 2), np.float32))


@pytest.mark.parametrize("settings, message", [
    ({"convolutions": [{"filters": 4, "kernel_size": 3}]}, "convolutions and input_shape go together"),
    ({"input_shape": [28, 28, 1]}, "convolutions and input_shape go together"),
    ({"global_pooling": True}, "global_pooling=true needs convolutions"),
    ({"input_shape": [784], "convolutions": [{"filters": 4, "kernel_size": 3}]},
     r"input_shape=\[784\] must be \[height"),
    ({"input_shape": IMAGES, "convolutions": [{"filters": 4}]}, "lacks filters or kernel_size"),
    ({"input_shape": IMAGES, "convolutions": [{"filters": 4, "kernel_size": 3, "dilation": 2}]},
     r"convolutions\[0\]: unknown key\(s\) dilation; valid: filters, kernel_size"),
    ({"input_shape": IMAGES, "convolutions": [{"filters": 0, "kernel_size": 3}]}, r"filters=0 is out of range"),
    ({"input_shape": IMAGES, "convolutions": [{"filters": 4, "kernel_size": [3, 3, 3]}]}, r"kernel_size=\[3, 3, 3\]"),
    ({"input_shape": IMAGES, "convolutions": [{"filters": 4, "kernel_size": 3, "padding": "causal"}]},
     "padding: unknown value 'causal'; valid: valid, same"),
    ({"input_shape": IMAGES, "convolutions": [{"filters": 4, "kernel_size": 3, "pool": "min"}]},
     "pool: unknown value 'min'; valid: max, average, None"),
])
def test_bad_convolution_settings_are_rejected_in_one_line(settings, message):
    with pytest.raises(ConfigError, match=message):
        validate_model(with_convolutions(ModelSpec(**settings), "model"), "model")


def test_an_input_shape_that_does_not_fit_the_data_is_rejected():
    spec = with_convolutions(ModelSpec(input_shape=[28, 28, 3], convolutions=[{"filters": 2, "kernel_size": 3}]), "m")
    with pytest.raises(ConfigError, match=r"input_shape=\[28, 28, 3\] holds 2352 values but each sample has 784"):
        build_model(spec, 784, 10)


def test_a_model_without_convolutions_keeps_its_identity(base_trial):
    """The new settings at their defaults are left out of the identity: stored trials keep their hashes."""
    assert not {"convolutions", "input_shape", "global_pooling"} & set(base_trial.identity()["model"])
    cnn = variant(base_trial, "lenet", model=LENET)
    assert cnn.identity()["model"]["convolutions"] == [{"filters": 4, "kernel_size": (3, 3), "padding": "same",
                                                         "pool": "max"}, {"filters": 6, "kernel_size": (3, 3),
                                                                          "pool": "average"}]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the gradient is taken with TensorFlow's tape")
@pytest.mark.parametrize("size, strides, padding, height", [
    (2, 2, "valid", 8), (2, 2, "valid", 7), (2, 2, "same", 7), (3, 3, "same", 8), (3, 2, "same", 7), (3, 1, "valid", 6),
])
def test_max_pooling_value_and_gradient_are_max_poolings_with_ties(size, strides, padding, height):
    """Tiling windows (a reshape) and overlapping ones (strided slices), on integers so windows tie: the value,
    and the gradient sent to each window's first maximum alone, equal MaxPooling2D's, bit for bit."""
    import tensorflow as tf

    from studies.engines.stack import max_pool

    x = tf.constant(np.random.default_rng(0).integers(0, 3, (2, 3, height, height + 1, 2)).astype(np.float32))
    layer = keras.layers.MaxPooling2D(size, strides, padding)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        mine = max_pool(x, (size, size), (strides, strides), padding)
        theirs = tf.reshape(layer(tf.reshape(x, (6, height, height + 1, 2))), mine.shape)
        weights = tf.range(1.0, 1.0 + tf.size(mine, out_type=tf.float32))  # each output's gradient its own
        mine_loss, their_loss = (tf.reduce_sum(tf.reshape(y, [-1]) * weights) for y in (mine, theirs))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    np.testing.assert_array_equal(tape.gradient(mine_loss, x).numpy(), tape.gradient(their_loss, x).numpy())
