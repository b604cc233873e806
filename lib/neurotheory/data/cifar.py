"""CIFAR-10 (Krizhevsky 2009) from its binary archive, and the synthetic stand-in used offline.

The binary version (``cifar-10-binary.tar.gz``) holds raw bytes, so nothing is unpickled:
each record is 1 label byte followed by 3072 pixel bytes, the 1024 red, then green, then
blue values of a 32 × 32 image in row-major order. ``data_batch_1.bin`` … ``data_batch_5.bin``
hold the 50 000 training images, ``test_batch.bin`` the 10 000 test images.

Without network, :func:`cifar10` raises :class:`~neurotheory.data.DataUnavailable` unless
``fallback=True``, in which case it says so in one line and returns
:func:`synthetic_cifar10`: images of the same shape and label set, labelled as a stand-in.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from neurotheory import checks, runtime
from neurotheory.data.files import DataUnavailable, cache_dir, extract, fetch

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
# SHA-256 of the published archive (170 052 171 bytes), as recorded by TensorFlow Datasets
# (tensorflow_datasets/url_checksums/cifar10.txt).
SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
FILENAME = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
SPLITS = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SIDE, CHANNELS = 32, 3
RECORD = 1 + SIDE * SIDE * CHANNELS


class ImageSet(NamedTuple):
    """Images (n, 32, 32, 3) uint8, labels (n,) int in 0–9, and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str


def read_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 32, 32, 3) uint8 and labels (n,) from one binary batch file."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"{path} is not a CIFAR-10 binary batch: {raw.size} bytes is not a multiple of {RECORD}")
    records = raw.reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CLASSES):
        raise ValueError(f"{path} has label {labels.max()}; CIFAR-10 labels are 0–9")
    images = records[:, 1:].reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _check_request(split: str, limit: int | None) -> None:
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of {tuple(SPLITS)}")
    if limit is not None:
        checks.integer("limit", limit)


def load_folder(folder: str | Path, split: str = "train", limit: int | None = None) -> ImageSet:
    """CIFAR-10 from an extracted ``cifar-10-batches-bin`` folder."""
    _check_request(split, limit)
    folder = Path(folder)
    images, labels = [], []
    for name in SPLITS[split]:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; is {folder} an extracted CIFAR-10 binary archive?")
        batch_images, batch_labels = read_batch(path)
        images.append(batch_images)
        labels.append(batch_labels)
        if limit is not None and sum(len(b) for b in labels) >= limit:
            break
    images, labels = np.concatenate(images)[:limit], np.concatenate(labels)[:limit]
    return ImageSet(images, labels, f"CIFAR-10 {split}")


def cifar10(split: str = "train", *, limit: int | None = None, fallback: bool = False, seed: int = 0) -> ImageSet:
    """CIFAR-10 images and labels: downloaded once (SHA-256 checked), extracted safely, cached.

    ``limit`` keeps the first ``limit`` images. With ``fallback=True`` a missing network is
    reported in one line and :func:`synthetic_cifar10` (``seed``) stands in.
    """
    _check_request(split, limit)
    try:
        archive = fetch(URL, SHA256, FILENAME)
    except DataUnavailable:
        if not fallback:
            raise
        n = limit or (50_000 if split == "train" else 10_000)
        print("offline: synthetic stand-in for CIFAR-10 (data.synthetic_cifar10, same shape)")
        return synthetic_cifar10(n, seed=seed if split == "train" else seed + 1)
    root = cache_dir() / "cifar10"
    if not (root / FOLDER / SPLITS[split][0]).is_file():
        extract(archive, root)
    return load_folder(root / FOLDER, split, limit)


def synthetic_cifar10(n: int, *, seed: int = 0, noise: float = 0.6) -> ImageSet:
    """A stand-in of CIFAR-10's shape: n images 32 × 32 × 3 (uint8) in 10 balanced classes.

    Each class has a smooth random template (a sum of a few low-frequency colour gratings);
    an image is its class template plus per-image smooth variation of relative strength
    ``noise``, rescaled to 0–255. Not CIFAR-10: a labelled, learnable task of the same
    size, for running the chapter offline.
    """
    checks.integer("n", n)
    checks.number("noise", noise, allow_zero=True)
    rng = runtime.rng(seed)
    grid = np.linspace(0.0, 2.0 * np.pi, SIDE, endpoint=False)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    frequencies = np.arange(1, 4)
    basis = np.stack([f(a * yy + b * xx) for a in frequencies for b in frequencies for f in (np.sin, np.cos)])

    def smooth(count: int) -> np.ndarray:
        coefficients = rng.normal(size=(count, CHANNELS, len(basis))) / np.sqrt(len(basis))
        return np.einsum("ncb,byx->nyxc", coefficients, basis)

    templates = smooth(len(CLASSES))
    labels = np.arange(n) % len(CLASSES)
    rng.shuffle(labels)
    fields = templates[labels] + noise * smooth(n)
    images = np.clip(127.5 + 127.5 * fields / (3.0 * fields.std()), 0, 255).astype(np.uint8)
    return ImageSet(images, labels.astype(np.int64), "synthetic stand-in for CIFAR-10 (offline)")
