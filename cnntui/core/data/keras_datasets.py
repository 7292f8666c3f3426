"""``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100`` through Keras's own download code.

Offline, the download fails; we say which file to fetch and where to put it by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnntui.core.data.errors import DataError
from cnntui.core.user_dirs import keras_home

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

CLASS_NAMES: dict[str, list[str]] = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
    "cifar10": [
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ],
    "cifar100": (
        "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus "
        "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach "
        "couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster "
        "house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree "
        "motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear "
        "pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road "
        "rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel "
        "streetcar sunflower sweet_pepper table tank telephone television tiger tractor train "
        "trout tulip turtle wardrobe whale willow_tree wolf woman worm"
    ).split(),
}  # fmt: skip

# (what to download, where Keras looks for it under its datasets folder)
MANUAL_FILES: dict[str, list[tuple[str, str]]] = {
    "mnist": [(_BASE + "mnist.npz", "mnist.npz")],
    "fashion_mnist": [
        (_BASE + f, f"fashion-mnist/{f}")
        for f in (
            "train-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
        )
    ],
    "cifar10": [
        (
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "cifar-10-batches-py-target_archive",
        )
    ],
    "cifar100": [
        (
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "cifar-100-python-target_archive",
        )
    ],
}


def keras_datasets_dir() -> Path:
    """Where Keras keeps downloads: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    return keras_home() / "datasets"


def offline_help(name: str) -> str:
    """How to put ``name``'s files in place by hand."""
    where = keras_datasets_dir()
    steps = "; ".join(
        f"download {url} and save it as {where / dest}" for url, dest in MANUAL_FILES[name]
    )
    return f"to install it by hand on this machine: {steps}"


def load_keras_dataset(
    name: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(x_train, y_train, x_test, y_test, class_names) from ``keras.datasets.<name>``."""
    if name not in CLASS_NAMES:
        raise DataError(f"unknown Keras dataset {name!r}; choose one of {', '.join(CLASS_NAMES)}")
    import keras

    loader = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # noqa: BLE001 - any download/extract failure gets one clear message
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise DataError(
            f"could not download the {name} dataset ({detail}). This machine may be offline; "
            f"{offline_help(name)}. Or train on --data sample (bundled) or a folder of images"
        ) from None
    return (
        np.asarray(x_train),
        np.asarray(y_train).reshape(-1),
        np.asarray(x_test),
        np.asarray(y_test).reshape(-1),
        list(CLASS_NAMES[name]),
    )
