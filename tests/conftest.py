"""Shared fixtures: the repository's notebooks, executed once each at quick scale.

Each notebook runs top to bottom in a fresh kernel (tools/chapters.py, the runner
tools/paper_scale.py uses too) inside a copy of the book, so the notebook tests and the site
test share one execution per notebook.
"""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from chapters import ROOT, Execution, execute, notebooks  # noqa: F401 (the tests import ROOT and notebooks from here)


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


class ExecutedBook:
    """A copy of the book whose notebooks are executed on demand, each at most once."""

    def __init__(self, root):
        self.root = root
        shutil.copytree(ROOT / "book", root / "book")
        shutil.copytree(ROOT / "tools", root / "tools")   # the site build writes student versions
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(ROOT / name, root / name)
        self.runs: dict[str, Execution] = {}

    def execute(self, notebook: str) -> Execution:
        if notebook not in self.runs:
            self.runs[notebook] = self._run(notebook)
        return self.runs[notebook]

    def _run(self, notebook: str) -> Execution:
        import nbformat

        run = execute(self.root / notebook, timeout=900)
        nbformat.write(run.notebook, run.path)
        return run


@pytest.fixture(scope="session")
def executed_book(tmp_path_factory) -> ExecutedBook:
    os.environ.setdefault("NEUROTHEORY_SCALE", "quick")
    return ExecutedBook(tmp_path_factory.mktemp("book"))
