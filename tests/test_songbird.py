"""The songbird loader: the real on-disk format (a MATLAB 5 file made here), checksums, and
the clear DataUnavailable when the shipping package is absent."""

import importlib

import numpy as np
import pytest
from scipy.io import savemat

from neurotheory import data

songbird_module = importlib.import_module("neurotheory.data.birdsong")


def write_fixture(path, **overrides):
    rng = np.random.default_rng(0)
    contents = {"SONG": rng.random((6, 40)), "NEURAL": rng.random((4, 12)),
                "SONGfs": np.array([[200]], dtype=np.uint8), "VIDEOfs": np.array([[30]], dtype=np.uint8)}
    contents.update(overrides)
    savemat(path, contents)
    return contents


def test_read_fixture_in_the_real_format(tmp_path):
    path = tmp_path / "MackeviciusData.mat"
    contents = write_fixture(path)
    bird = songbird_module.read(path)
    np.testing.assert_allclose(bird.song, contents["SONG"])
    np.testing.assert_allclose(bird.neural, contents["NEURAL"])
    assert (bird.song_rate, bird.neural_rate) == (200.0, 30.0)


def test_read_refuses_bad_contents(tmp_path):
    path = tmp_path / "bad.mat"
    savemat(path, {"SONG": np.ones((3, 4))})
    with pytest.raises(data.DataUnavailable, match="NEURAL"):
        songbird_module.read(path)
    write_fixture(path, NEURAL=-np.ones((2, 3)))
    with pytest.raises(data.DataUnavailable, match="nonnegative"):
        songbird_module.read(path)


def test_missing_package_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(songbird_module, "DISTRIBUTION", "no-such-distribution-for-songbird")
    with pytest.raises(data.DataUnavailable, match="pip install"):
        songbird_module.songbird()


def test_installed_package_gives_the_paper_data():
    try:
        bird = songbird_module.songbird()
    except data.DataUnavailable:
        pytest.skip("seqnmf is not installed")
    assert bird.song.shape == (141, 4440) and bird.neural.shape == (75, 666)
    assert bird.song_rate == 200.0 and bird.neural_rate == 30.0
