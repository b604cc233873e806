"""Every chapter notebook: stored clean, opens with the badge and setup cell, runs at quick scale."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, config, notebooks

NOTEBOOKS = notebooks()


def repository_url() -> str:
    return config()["repository"]["url"].rstrip("/")


def tracked_notebooks() -> list[str]:
    """Notebooks tracked by git (falls back to the table of contents outside a checkout)."""
    try:
        out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
    return out or NOTEBOOKS


def test_toc_lists_notebooks():
    assert "book/start-here/tour.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", tracked_notebooks())
def test_stored_without_outputs(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path}: cells {dirty} carry outputs or execution counts; clear them before committing"
    assert "widgets" not in nb.metadata, f"{path}: stored widget state in metadata"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_header_links_agree_with_config(path):
    """Colab badge and setup cell derive from the one repository URL in _config.yml."""
    nb = nbformat.read(ROOT / path, as_version=4)
    first, second = nb.cells[0], nb.cells[1]
    github = repository_url().removeprefix("https://github.com/")
    badge = f"https://colab.research.google.com/github/{github}/blob/{config()['repository']['branch']}/{path}"
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert f"[![Open in Colab](../_static/open-in-colab.svg)]({badge})" in first.source, (
        f"{path}: the first cell needs the local Colab badge linking to {badge}")
    assert re.search(r"Run time: .*quick.*standard.*paper", first.source), f"{path}: header lacks run times"
    assert second.cell_type == "code" and '"google.colab" in sys.modules' in second.source
    assert f"git+{repository_url()}" in second.source, f"{path}: setup cell installs from another URL"
    assert "versions.require()" in second.source, f"{path}: setup cell must check the package versions"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS)
def test_runs_top_to_bottom_at_quick_scale(executed_book, path):
    run = executed_book.execute(path)
    assert run.error is None, f"{path} failed after {run.seconds:.0f} s:\n{run.error}"
    print(f"{path}: {run.seconds:.1f} s at quick scale")


def test_the_session_shares_one_compilation_cache():
    """conftest sets JAX's cache before JAX is imported, so the tests write to it (and the
    kernels, which inherit the environment, read from it)."""
    import jax
    import jax.numpy as jnp

    cache = Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    assert jax.config.jax_compilation_cache_dir == str(cache)
    before = set(cache.iterdir())
    jax.jit(lambda x: jnp.sin(x) * 3.25 + 0.125)(jnp.arange(7.0)).block_until_ready()
    assert set(cache.iterdir()) - before, f"compiling wrote nothing to {cache}"


MAX_LINE = 88


def long_lines(nb) -> list[str]:
    """Lines over MAX_LINE characters in code cells and in fenced Python blocks of markdown."""
    found = []
    for i, cell in enumerate(nb.cells):
        blocks = ([cell.source] if cell.cell_type == "code"
                  else re.findall(r"```(?:python|py)\n(.*?)```", cell.source, re.S))
        found += [f"cell {i} ({len(line)} chars): {line.strip()[:60]}"
                  for block in blocks for line in block.splitlines() if len(line) > MAX_LINE]
    return found


def test_long_lines_are_found():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1\n" + "y = " + "1 + " * 30 + "1"),
        nbformat.v4.new_markdown_cell("text " * 40 + "\n```python\n" + "z" * 89 + "\n```"),
        nbformat.v4.new_code_cell("w = " + "2" * 84)])
    assert [f.split(" (")[0] for f in long_lines(nb)] == ["cell 0", "cell 1"]


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_code_lines_fit_the_page(path):
    """Code reads without a horizontal scrollbar: lines of at most 88 characters."""
    found = long_lines(nbformat.read(ROOT / path, as_version=4))
    assert not found, f"{path}: lines over {MAX_LINE} characters:\n" + "\n".join(found[:20])
