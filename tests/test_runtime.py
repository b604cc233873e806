import numpy as np
import pytest

from neurotheory import runtime


@pytest.mark.parametrize("value", ["quick", "standard", "paper", " Paper "])
def test_scale_reads_environment(monkeypatch, value):
    monkeypatch.setenv("NEUROTHEORY_SCALE", value)
    assert runtime.scale() == value.strip().lower()


def test_scale_defaults_to_standard(monkeypatch):
    monkeypatch.delenv("NEUROTHEORY_SCALE", raising=False)
    assert runtime.scale() == "standard"
    monkeypatch.setenv("NEUROTHEORY_SCALE", "")
    assert runtime.scale() == "standard"


def test_bad_scale_names_allowed_values(monkeypatch):
    monkeypatch.setenv("NEUROTHEORY_SCALE", "huge")
    with pytest.raises(ValueError, match="quick, standard, paper"):
        runtime.scale()


def test_pick_follows_scale(monkeypatch):
    for name, expected in (("quick", 1), ("standard", 2), ("paper", 3)):
        monkeypatch.setenv("NEUROTHEORY_SCALE", name)
        assert runtime.pick(quick=1, standard=2, paper=3) == expected


def test_pick_requires_every_scale():
    with pytest.raises(TypeError):
        runtime.pick(quick=1, standard=2)


def test_describe_names_backend_and_scale(monkeypatch):
    monkeypatch.setenv("NEUROTHEORY_SCALE", "quick")
    line = runtime.describe()
    assert "scale=quick" in line and "cpu" in line.lower() and "\n" not in line


def test_seeding_is_reproducible():
    import jax

    a = jax.random.normal(runtime.key(3), (4,))
    b = jax.random.normal(runtime.key(3), (4,))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, jax.random.normal(runtime.key(4), (4,)))
    assert runtime.rng(3).normal() == runtime.rng(3).normal()


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        runtime.key(seed)


def test_progress_yields_everything(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert list(runtime.progress(range(5), desc="test")) == list(range(5))
