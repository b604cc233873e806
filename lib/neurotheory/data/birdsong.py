"""The songbird recording of Mackevicius et al. (2019), as shipped with the PyPI package ``seqnmf``.

``MackeviciusData.mat`` holds ``SONG``, a 141 × 4440 spectrogram of a zebra finch's song
(frequency bins × time bins at ``SONGfs`` = 200 Hz), and ``NEURAL``, 75 × 666 activity of HVC
neurons (calcium imaging at ``VIDEOfs`` = 30 Hz). Degleris et al. (2019) fit the song with
K = 3 motifs of L = 50 lags. The file is read from the installed distribution's file list
(``pip install --no-deps seqnmf``), checksum verified; ``seqnmf`` itself is never imported.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.io import loadmat

from neurotheory.data.files import DataUnavailable, package_file

DISTRIBUTION = "seqnmf"
RELATIVE_PATH = "seqnmf/data/MackeviciusData.mat"
SHA256 = "6d37559649f5ea03e23c4a8b80ce8edeb55fe8b559c586b06785bfde2a7ee112"


class Songbird(NamedTuple):
    """``song`` (frequencies × time) at ``song_rate`` Hz; ``neural`` (neurons × time) at ``neural_rate`` Hz."""

    song: np.ndarray
    neural: np.ndarray
    song_rate: float
    neural_rate: float


def _matrix(contents: dict, name: str, path) -> np.ndarray:
    if name not in contents:
        raise DataUnavailable(f"{path} has no variable {name!r}")
    value = np.asarray(contents[name], dtype=np.float64)
    if value.ndim != 2 or not np.all(np.isfinite(value)) or np.any(value < 0):
        raise DataUnavailable(f"{path}: {name} is not a finite nonnegative matrix (shape {value.shape})")
    return value


def read(path) -> Songbird:
    """Read a MackeviciusData.mat-format file (MATLAB 5) without checking its checksum."""
    contents = loadmat(path)
    return Songbird(song=_matrix(contents, "SONG", path), neural=_matrix(contents, "NEURAL", path),
                    song_rate=float(np.asarray(contents.get("SONGfs", 200)).squeeze()),
                    neural_rate=float(np.asarray(contents.get("VIDEOfs", 30)).squeeze()))


def songbird() -> Songbird:
    """The songbird song spectrogram and HVC activity used by seqNMF and by Degleris et al.

    Raises :class:`~neurotheory.data.DataUnavailable` (one line saying how to get it) when the
    ``seqnmf`` distribution is not installed; chapters then fall back to synthetic sequences.
    """
    return read(package_file(DISTRIBUTION, RELATIVE_PATH, SHA256))
