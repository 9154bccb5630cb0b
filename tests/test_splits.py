import math

import numpy as np
import pytest
from keras.src.trainers.data_adapters.array_slicing import train_validation_split  # Keras's own

from studies.config.settings import DatasetSpec
from studies.data.splits import draw_indices, ink_fraction, keras_validation_split, make_splits


def test_first_samples_and_test_set_validation(fashion_mnist):
    splits = make_splits(fashion_mnist, DatasetSpec(train_first=30000), seed=0)
    assert splits.sizes == {"train": 30000, "val": 10000, "test": 10000} and splits.classes == 10
    np.testing.assert_array_equal(splits.y_train, fashion_mnist.y_train[:30000])
    assert splits.validation[0] is splits.x_test and splits.validation_name == "test"
    assert make_splits(fashion_mnist, DatasetSpec(test_first=100, validation="none"), 0).validation is None


def test_validation_split_holds_out_the_last_20_percent_exactly_as_keras(fashion_mnist):
    splits = make_splits(fashion_mnist, DatasetSpec(validation="split", validation_split=0.2), seed=3)
    assert splits.sizes == {"train": 48000, "val": 12000, "test": 10000}
    np.testing.assert_array_equal(splits.validation[0], fashion_mnist.x_train[48000:])
    np.testing.assert_array_equal(splits.x_train, fashion_mnist.x_train[:48000])
    x = np.arange(1003)
    (ours_train, _), (ours_val, _) = keras_validation_split(x, x, 0.2)
    (keras_train,), (keras_val,) = train_validation_split((x,), validation_split=0.2)
    np.testing.assert_array_equal(ours_train, keras_train)
    np.testing.assert_array_equal(ours_val, keras_val)


DRAW = {"train_range": [0, 50000], "train_n": 700, "val_range": [50000, 60000], "val_n": 300}


def test_article_002_draw_is_with_replacement_from_the_stated_ranges():
    train, val = draw_indices(DRAW, 60000, seed=10)
    assert len(train) == 700 and len(val) == 300
    assert train.min() >= 0 and train.max() < 50000 and val.min() >= 50000 and val.max() < 60000
    small = {"train_range": [0, 20], "train_n": 200, "val_range": [20, 30], "val_n": 50}
    repeated_train, repeated_val = draw_indices(small, 60000, seed=0)
    assert len(np.unique(repeated_train)) < 200 and len(np.unique(repeated_val)) < 50  # repeats: with replacement
    again, _ = draw_indices(DRAW, 60000, seed=10)
    other, _ = draw_indices(DRAW, 60000, seed=11)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)


def test_draw_ranges_scale_to_the_mnist5k_fallback():
    train, val = draw_indices(DRAW, 4000, seed=0)
    assert train.max() < round(50000 * 4000 / 60000) <= val.min() and val.max() < 4000


def test_two_class_subset_is_relabelled(fashion_mnist):
    splits = make_splits(fashion_mnist, DatasetSpec(classes=(7, 9), validation="none"), seed=0)
    assert splits.classes == 2 and splits.sizes["train"] == 12000 and splits.sizes["test"] == 2000
    assert set(np.unique(splits.y_train)) == {0, 1}
    np.testing.assert_array_equal(splits.x_train[splits.y_train == 1][0],
                                  fashion_mnist.x_train[fashion_mnist.y_train == 9][0])


def test_ink_fraction_target(fashion_mnist):
    splits = make_splits(fashion_mnist, DatasetSpec(target="ink_fraction", validation="split"), seed=0)
    assert splits.y_train.dtype == np.float32 and 0 < splits.y_train.mean() < 1
    assert splits.validation[1][0] == pytest.approx(np.mean(splits.validation[0][0] > 0.5))
    assert ink_fraction(np.array([[0.0, 0.6, 0.9, 0.2]]))[0] == pytest.approx(0.5)
    assert not math.isnan(float(splits.y_test.mean()))
