"""Packaging rules: the library never pins what Colab already has; the site pins its tools."""

import re
import tomllib

from conftest import ROOT


def test_library_dependencies_are_loose_lower_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "neurotheory"
    for requirement in project["dependencies"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+>=[0-9][0-9.]*", requirement), (
            f"{requirement!r}: library dependencies must be plain lower bounds")
    names = {re.split(r"[>\[]", r)[0] for r in project["dependencies"]}
    assert {"jax", "flax", "optax", "numpy", "altair", "ipywidgets"} <= names


def test_requirements_install_the_library_and_pin_the_site_tools():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert "-e ." in lines
    assert "jupyter-book==1.0.4.post1" in lines
    assert any(l.startswith("sphinxcontrib-bibtex") for l in lines)


def test_every_module_has_a_docstring():
    for source in (ROOT / "lib" / "neurotheory").rglob("*.py"):
        text = source.read_text().lstrip()
        assert text.startswith('"""'), f"{source.relative_to(ROOT)} needs a module docstring"


def test_lowest_constraints_are_exactly_the_lower_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = dict(r.split(">=") for r in project["dependencies"])
    pins = dict(l.split("==") for l in (ROOT / "constraints" / "lowest.txt").read_text().splitlines()
                if l.strip() and not l.startswith("#"))
    assert pins.pop("jaxlib") == pins["jax"], "jaxlib must be pinned at jax's version"
    assert pins == bounds, "constraints/lowest.txt and pyproject.toml's lower bounds disagree"


def test_readme_states_the_lowest_versions():
    readme = (ROOT / "README.md").read_text()
    for line in (ROOT / "constraints" / "lowest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            assert re.search(rf"\| {name}\b[^|]*\| {re.escape(version)} \|", readme), (
                f"README's version table must list {name} {version}")
