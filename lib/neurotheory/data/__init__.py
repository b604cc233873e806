"""Data: checked downloads, safe extraction, packaged files, and the book's data set loaders.

``fetch``, ``extract``, ``verify`` and friends live in :mod:`neurotheory.data.files`. Each
data set has its own submodule, imported on first use so ``import neurotheory.data`` stays
light: ``data.imdb(...)`` loads :mod:`neurotheory.data.imdb`.
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
    "imdb": "imdb",
    "synthetic_sentiment": "imdb",
    "cifar10": "cifar10",
    "songbird": "songbird",
}

__all__ = ["ChecksumMismatch", "DataUnavailable", "UnsafeArchive", "cache_dir", "extract", "fetch",
           "package_file", "sha256_of", "verify", *_LOADERS]


def __getattr__(name: str):
    if name not in _LOADERS:
        raise AttributeError(f"module 'neurotheory.data' has no attribute {name!r}")
    module = import_module(f"neurotheory.data.{_LOADERS[name]}")
    # Importing the submodule binds its name here (data.imdb the module); bind the loaders instead.
    for loader, module_name in _LOADERS.items():
        if module_name == _LOADERS[name]:
            globals()[loader] = getattr(module, loader)
    return globals()[name]
