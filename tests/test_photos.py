"""The natural-image patches: shapes, balance, split separation, natural statistics, checksums."""

import importlib

import numpy as np
import pytest

from neurotheory import data, vision

photos = importlib.import_module("neurotheory.data.photos")


@pytest.fixture(scope="module")
def patches():
    try:
        return data.natural_patches(400, seed=3)
    except data.DataUnavailable:
        pytest.skip("scikit-image or Pillow is not installed")


def test_shapes_labels_and_balance(patches):
    assert patches.images.shape == (400, 32, 32, 1) and patches.images.dtype == np.uint8
    assert np.bincount(patches.labels).tolist() == [40] * len(photos.PHOTOS)
    assert "scikit-image" in patches.source


def test_seeded_and_splits_differ(patches):
    again = data.natural_patches(400, seed=3)
    np.testing.assert_array_equal(again.images, patches.images)
    test = data.natural_patches(400, split="test", seed=3)
    assert not np.array_equal(test.images, patches.images)


def test_each_patch_is_cut_from_its_photograph_in_its_split(patches):
    gray = photos.photograph("camera.png")
    cut = round(gray.shape[1] * photos.TRAIN_SHARE)
    label = photos.CLASSES.index("camera")
    for split, columns in (("train", (0, cut)), ("test", (cut, gray.shape[1]))):
        sample = data.natural_patches(20, split=split, seed=5)
        patch = sample.images[np.flatnonzero(sample.labels == label)[0], :, :, 0].astype(float)
        windows = np.lib.stride_tricks.sliding_window_view(np.rint(gray[:, columns[0]:columns[1]]), (32, 32))
        assert np.any(np.all(windows == patch, axis=(2, 3)))


def test_power_spectrum_falls_like_a_natural_image(patches):
    """Natural images have power ∝ 1/f^α with α near 2; white noise would give 0, smooth gratings no power law."""
    slope = vision.power_spectrum_slope(patches.images)
    assert -3.5 < slope < -1.5
    white = np.random.default_rng(0).normal(size=(200, 32, 32))
    assert abs(vision.power_spectrum_slope(white)) < 0.3


def test_checksum_and_missing_distribution(monkeypatch, patches):
    monkeypatch.setitem(photos.PHOTOS, "camera.png", "0" * 64)
    photos.photograph.cache_clear()
    with pytest.raises(data.ChecksumMismatch):
        photos.photograph("camera.png")
    monkeypatch.setattr(photos, "DISTRIBUTION", "no-such-distribution-for-photos")
    with pytest.raises(data.DataUnavailable, match="pip install"):
        photos.photograph("brick.png")
    photos.photograph.cache_clear()


@pytest.mark.parametrize("kwargs, match", [(dict(n=0), "n must"), (dict(n=5, split="val"), "split"),
                                           (dict(n=5, side=400), "does not fit"), (dict(n=5, zoom=2.0), "zoom")])
def test_bad_arguments(kwargs, match, patches):
    with pytest.raises((ValueError, TypeError), match=match):
        data.natural_patches(**kwargs)
