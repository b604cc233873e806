"""CIFAR-10 loader on a tiny archive in the real binary layout, and the offline stand-in."""

import importlib
import io
import tarfile

import numpy as np
import pytest

from neurotheory import data

# The submodule itself: ``data.cifar10`` is the loader function.
module = importlib.import_module("neurotheory.data.cifar")


def records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    raw = np.concatenate([labels[:, None], images.transpose(0, 3, 1, 2).reshape(n, -1)], axis=1)
    return raw.tobytes(), images, labels


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A cifar-10-binary.tar.gz with 3 images per training batch and 2 test images."""
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path / "cache"))
    path = tmp_path / "cifar-10-binary.tar.gz"
    expected = {"train": ([], []), "test": ([], [])}
    with tarfile.open(path, "w:gz") as tar:
        for i, name in enumerate(module.SPLITS["train"] + module.SPLITS["test"]):
            split = "test" if name == "test_batch.bin" else "train"
            raw, images, labels = records(2 if split == "test" else 3, i)
            expected[split][0].append(images)
            expected[split][1].append(labels)
            info = tarfile.TarInfo(f"{module.FOLDER}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    sha = data.sha256_of(path)
    monkeypatch.setattr(module, "SHA256", sha)
    monkeypatch.setattr(module, "URL", path.as_uri())
    return {k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in expected.items()}


def test_loads_the_binary_layout(archive):
    train = module.cifar10("train")
    images, labels = archive["train"]
    assert train.images.shape == (15, 32, 32, 3) and train.images.dtype == np.uint8
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.labels, labels)
    assert train.source == "CIFAR-10 train"
    test = module.cifar10("test")
    np.testing.assert_array_equal(test.images, archive["test"][0])


def test_limit_keeps_the_first_images(archive):
    subset = module.cifar10("train", limit=4)
    np.testing.assert_array_equal(subset.labels, archive["train"][1][:4])


def test_read_batch_refuses_a_truncated_file(tmp_path):
    bad = tmp_path / "data_batch_1.bin"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="not a CIFAR-10 binary batch"):
        module.read_batch(bad)


def test_offline_raises_or_falls_back(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEUROTHEORY_DATA", str(tmp_path))
    monkeypatch.setattr(module, "URL", "http://127.0.0.1:9/cifar-10-binary.tar.gz")
    with pytest.raises(data.DataUnavailable):
        module.cifar10("train", limit=10)
    stand_in = module.cifar10("train", limit=20, fallback=True)
    assert "synthetic stand-in" in capsys.readouterr().out
    assert stand_in.images.shape == (20, 32, 32, 3)
    assert "synthetic" in stand_in.source


def test_synthetic_stand_in_is_balanced_deterministic_and_learnable():
    a = module.synthetic_cifar10(200, seed=3)
    b = module.synthetic_cifar10(200, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.dtype == np.uint8 and a.images.shape == (200, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(a.labels), np.full(10, 20))
    # Nearest class mean classifies well above chance: the classes are real.
    x = a.images.reshape(200, -1).astype(float)
    means = np.stack([x[a.labels == k].mean(0) for k in range(10)])
    predicted = np.argmin(((x[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(predicted == a.labels) > 0.5


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="split"):
        module.cifar10("validation")
    with pytest.raises(ValueError, match="limit"):
        module.cifar10("train", limit=0)
    with pytest.raises(ValueError, match="n"):
        module.synthetic_cifar10(0)
