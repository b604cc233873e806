"""Data: checked downloads, safe extraction, packaged files, and the book's data set loaders.

``fetch``, ``extract``, ``verify`` and friends live in :mod:`neurotheory.data.files`. Each
data set has its own submodule, imported on first use so ``import neurotheory.data`` stays
light: ``data.songbird()`` loads :mod:`neurotheory.data.birdsong`. A submodule must not share
its name with a loader (importing it would rebind the name here to the module).
"""

from importlib import import_module

from neurotheory.data.files import (
    ChecksumMismatch,
    DataUnavailable,
    UnsafeArchive,
    cache_dir,
    extract,
    fetch,
    package_file,
    sha256_of,
    verify,
)

_LOADERS = {
    "imdb": "reviews",
    "synthetic_sentiment": "reviews",
    "cifar10": "cifar",
    "synthetic_cifar10": "cifar",
    "songbird": "birdsong",
    "natural_patches": "photos",
}

__all__ = ["ChecksumMismatch", "DataUnavailable", "UnsafeArchive", "cache_dir", "extract", "fetch",
           "package_file", "sha256_of", "verify", *_LOADERS]


def __getattr__(name: str):
    if name not in _LOADERS:
        raise AttributeError(f"module 'neurotheory.data' has no attribute {name!r}")
    return getattr(import_module(f"neurotheory.data.{_LOADERS[name]}"), name)
