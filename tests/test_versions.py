"""The setup cell's version check: one clear line, and the command that fixes it."""

import sys
import types
from importlib import metadata

import pytest

from neurotheory import versions


def test_bounds_come_from_the_installed_metadata():
    bounds = versions.requirements()
    assert {"jax", "flax", "optax", "numpy", "scipy", "altair", "ipywidgets", "tqdm"} <= set(bounds)
    assert versions.release(bounds["jax"]) >= (0, 4)


def test_this_environment_passes():
    assert versions.outdated() == {} and versions.stale() == {}
    versions.require()


@pytest.mark.parametrize("text, expected", [("0.4.30", (0, 4, 30)), ("2.4.6rc1", (2, 4, 6)),
                                            ("0.10.0.dev20260101", (0, 10, 0))])
def test_release_reads_the_numeric_part(text, expected):
    assert versions.release(text) == expected


def test_release_rejects_garbage():
    with pytest.raises(ValueError, match="version"):
        versions.release("latest")
    with pytest.raises(TypeError, match="version"):
        versions.release(0.4)


def test_an_old_package_stops_with_one_line_and_the_fix(monkeypatch, capsys):
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "0.4.20" if name == "jax" else real(name))
    assert set(versions.outdated()) == {"jax"}
    with pytest.raises(SystemExit, match="jax 0.4.20 is older than"):
        versions.require()
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    bound = versions.requirements()["jax"]
    assert f"pip install 'jax>={bound}'" in line and "restart the runtime" in line
    assert "flax" not in line.split("To fix")[1], "only the outdated package is reinstalled"


def test_a_missing_package_is_named(monkeypatch):
    real = metadata.version

    def version(name):
        if name == "optax":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    assert "optax is missing" in versions.outdated()["optax"]


def test_a_package_upgraded_after_import_asks_for_a_restart(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(__version__="4.0.0"))
    assert "restart" not in versions.stale()["tqdm"] and "loaded" in versions.stale()["tqdm"]
    with pytest.raises(SystemExit, match="To fix: restart the runtime"):
        versions.require()


def test_install_command_refuses_unknown_names():
    with pytest.raises(ValueError, match="names"):
        versions.install_command(["torch"])
