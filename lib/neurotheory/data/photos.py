"""Natural-image patches cut from the photographs that ship inside scikit-image.

The stand-in for CIFAR-10 when the archive cannot be downloaded, chosen for its spatial
statistics: real photographs have the roughly 1/f² power spectrum that shapes early visual
receptive fields, which smooth synthetic gratings do not. Ten photographs (``PHOTOS``) are
read from the installed ``scikit-image`` distribution's file list, checksum verified, without
importing scikit-image; Pillow decodes them. Each photograph is converted to gray (the mean of
its colour channels, as the retina chapter does for CIFAR-10), shrunk by ``zoom`` and cut into
32 × 32 patches; the label of a patch is its source photograph. Training patches come from the
left three quarters of every photograph and test patches from the right quarter, so the two
splits never share pixels.
"""

from __future__ import annotations

import functools

import numpy as np

from neurotheory import checks, runtime
from neurotheory.data.cifar import ImageSet
from neurotheory.data.files import DataUnavailable, package_file

DISTRIBUTION = "scikit-image"
# file name → SHA-256 in scikit-image 0.26.0 (the version requirements.txt pins)
PHOTOS = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "brick.png": "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
    "camera.png": "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
    "chelsea.png": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "coffee.png": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
    "coins.png": "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba",
    "grass.png": "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
    "gravel.png": "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
    "motorcycle_left.png": "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179",
    "rocket.jpg": "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
}
CLASSES = tuple(name.split(".")[0] for name in PHOTOS)
SPLITS = ("train", "test")
TRAIN_SHARE = 0.75


@functools.lru_cache(maxsize=None)
def photograph(name: str, zoom: float = 0.5) -> np.ndarray:
    """One of ``PHOTOS`` as a gray float32 array in [0, 255], shrunk by ``zoom`` (area average)."""
    if name not in PHOTOS:
        raise ValueError(f"name={name!r} is not one of {tuple(PHOTOS)}")
    zoom = checks.number("zoom", zoom)
    if zoom > 1:
        raise ValueError(f"zoom must be at most 1 (patches are cut from shrunk photographs), got {zoom}")
    try:
        from PIL import Image
    except ImportError:
        raise DataUnavailable("the natural-image patches need Pillow to decode the photographs "
                              "(pip install pillow)") from None
    path = package_file(DISTRIBUTION, f"skimage/data/{name}", PHOTOS[name])
    with Image.open(path) as image:
        gray = Image.fromarray(np.asarray(image.convert("RGB"), np.float32).mean(axis=2))
        size = (max(1, round(gray.width * zoom)), max(1, round(gray.height * zoom)))
        return np.asarray(gray.resize(size, Image.Resampling.BOX), np.float32)


def natural_patches(n: int, *, split: str = "train", side: int = 32, zoom: float = 0.5,
                    seed: int = 0) -> ImageSet:
    """n gray patches (n, side, side, 1) uint8, labelled by source photograph (10 balanced classes).

    Patch corners are drawn uniformly from ``runtime.rng(seed)`` inside the split's region of
    each photograph (the left ``TRAIN_SHARE`` of its columns for ``"train"``, the rest for
    ``"test"``). Raises :class:`~neurotheory.data.DataUnavailable` when scikit-image or Pillow
    is not installed.
    """
    checks.integer("n", n)
    checks.integer("side", side, minimum=2)
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of {SPLITS}")
    rng = runtime.rng(seed)
    labels = np.arange(n) % len(PHOTOS)
    rng.shuffle(labels)
    patches = np.empty((n, side, side, 1), np.uint8)
    for label, name in enumerate(PHOTOS):
        image = photograph(name, zoom)
        cut = round(image.shape[1] * TRAIN_SHARE)
        columns = (0, cut) if split == "train" else (cut, image.shape[1])
        if image.shape[0] < side or columns[1] - columns[0] < side:
            raise ValueError(f"side={side} does not fit the {split} region of {name} at zoom={zoom} "
                             f"({image.shape[0]} × {columns[1] - columns[0]} pixels)")
        rows = np.flatnonzero(labels == label)
        top = rng.integers(0, image.shape[0] - side + 1, len(rows))
        left = rng.integers(columns[0], columns[1] - side + 1, len(rows))
        window = np.arange(side)
        patches[rows, :, :, 0] = np.rint(image[top[:, None, None] + window[:, None],
                                               left[:, None, None] + window]).astype(np.uint8)
    return ImageSet(patches, labels.astype(np.int64),
                    f"natural-image patches ({split}): {len(PHOTOS)} scikit-image photographs")
