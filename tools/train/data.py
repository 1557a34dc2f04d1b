"""Dataset loading for the quantgpu model zoo.

Everything is read from files installed by Debian packages; nothing is
downloaded.

* Fashion-MNIST: IDX files from the ``dataset-fashion-mnist`` package
  (``/usr/share/datasets/fashion-mnist``), gzipped or not.
* digits: ``digits.csv.gz`` shipped inside ``python3-sklearn``.  The split is
  a plain index rule so that any program can rebuild it without a RNG:
  row ``i`` (0-based, file order) is a TEST image when ``i % 4 == 3``,
  otherwise it is a TRAIN image.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass, field

import numpy as np

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
DIGITS_CSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
DIGITS_CLASSES = [str(d) for d in range(10)]

# Normalisation constants. They were measured on the TRAIN split (all pixels,
# after multiplying by `scale`) and rounded to 4 decimals; the rounded numbers
# are the ones actually used, so the model card is exact.
#   fashion-mnist: measured mean 0.286041, std 0.353024
#   digits:        measured mean 0.305349, std 0.375994 (1348 train images)
FASHION_SCALE = 1.0 / 255.0
FASHION_MEAN = 0.2860
FASHION_STD = 0.3530
DIGITS_SCALE = 1.0 / 16.0


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray  # uint8 (fashion) or uint8 0..16 (digits), shape (N,1,H,W)
    y_train: np.ndarray  # int64
    x_test: np.ndarray
    y_test: np.ndarray
    scale: float
    mean: float
    std: float
    classes: list
    split: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)

    def normalise(self, pixels: np.ndarray) -> np.ndarray:
        """float = (pixel * scale - mean) / std, as float32."""
        x = pixels.astype(np.float32) * np.float32(self.scale)
        return (x - np.float32(self.mean)) / np.float32(self.std)


def _open_maybe_gz(path: str):
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise FileNotFoundError(f"neither {path} nor {path}.gz exists")


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (the MNIST container format) into a numpy array."""
    with _open_maybe_gz(path) as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims).copy()


def load_fashion(root: str = FASHION_DIR) -> Dataset:
    xtr = read_idx(os.path.join(root, "train-images-idx3-ubyte"))
    ytr = read_idx(os.path.join(root, "train-labels-idx1-ubyte"))
    xte = read_idx(os.path.join(root, "t10k-images-idx3-ubyte"))
    yte = read_idx(os.path.join(root, "t10k-labels-idx1-ubyte"))
    return Dataset(
        name="fashion-mnist",
        x_train=xtr[:, None, :, :],
        y_train=ytr.astype(np.int64),
        x_test=xte[:, None, :, :],
        y_test=yte.astype(np.int64),
        scale=FASHION_SCALE,
        mean=FASHION_MEAN,
        std=FASHION_STD,
        classes=FASHION_CLASSES,
        split={
            "rule": "official Fashion-MNIST split: train-* files (60000) for training, "
            "t10k-* files (10000) for testing, in file order",
            "train": int(len(ytr)),
            "test": int(len(yte)),
        },
        source={
            "files": [
                os.path.join(root, n)
                for n in sorted(os.listdir(root))
                if "idx" in n
            ],
            "package": "dataset-fashion-mnist (Debian)",
        },
    )


def _digits_raw(path: str = DIGITS_CSV):
    with gzip.open(path, "rt") as f:
        arr = np.loadtxt(f, delimiter=",", dtype=np.float64)
    pixels = arr[:, :-1].astype(np.uint8).reshape(-1, 1, 8, 8)
    labels = arr[:, -1].astype(np.int64)
    return pixels, labels


def digits_split_mask(n: int) -> np.ndarray:
    """True for TEST rows: index % 4 == 3 (0-based row index in digits.csv.gz)."""
    return (np.arange(n) % 4) == 3


def measure_stats(pixels: np.ndarray, scale: float):
    x = pixels.astype(np.float64) * scale
    return float(x.mean()), float(x.std())


# Rounded train-split statistics for digits (see measure_stats); fixed here so
# that the model card values are exactly the ones used.
DIGITS_MEAN = 0.3053
DIGITS_STD = 0.3760


def load_digits(path: str = DIGITS_CSV) -> Dataset:
    pixels, labels = _digits_raw(path)
    test = digits_split_mask(len(labels))
    return Dataset(
        name="digits",
        x_train=pixels[~test],
        y_train=labels[~test],
        x_test=pixels[test],
        y_test=labels[test],
        scale=DIGITS_SCALE,
        mean=DIGITS_MEAN,
        std=DIGITS_STD,
        classes=DIGITS_CLASSES,
        split={
            "rule": "rows of digits.csv.gz in file order, 0-based index i; "
            "test if i % 4 == 3, train otherwise",
            "train": int((~test).sum()),
            "test": int(test.sum()),
        },
        source={
            "files": [path],
            "package": "python3-sklearn (Debian)",
            "format": "CSV, 64 pixel columns (row-major 8x8, values 0..16) then the label",
        },
    )


def load(name: str) -> Dataset:
    if name == "fashion-mnist":
        return load_fashion()
    if name == "digits":
        return load_digits()
    raise ValueError(f"unknown dataset {name!r}")


if __name__ == "__main__":
    fm = load_fashion()
    print("fashion train stats", measure_stats(fm.x_train, FASHION_SCALE), fm.x_train.shape, fm.x_test.shape)
    dg = load_digits()
    print("digits train stats", measure_stats(dg.x_train, DIGITS_SCALE), dg.x_train.shape, dg.x_test.shape)
