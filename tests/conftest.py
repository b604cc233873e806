"""Shared fixtures: the repository's notebooks, executed once each (at quick scale unless
``NEUROTHEORY_SCALE`` says otherwise).

Each notebook runs top to bottom in a fresh kernel (tools/chapters.py, the runner
tools/paper_scale.py uses too). The instructor versions run inside a copy of the book, so the
notebook tests and the site test share one execution per notebook; the student versions run
in a folder of their own. One run at a time: on two cores, two JAX processes at once took
2.5 times the CPU time of the same runs one after the other (XLA's thread pools contend).
The kernels and the tests share one JAX compilation cache for the session: a function one of
them compiled is read back, not compiled again, by the others.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
import yaml

from chapters import ROOT, Execution, execute, notebooks  # noqa: F401 (the tests import ROOT and notebooks from here)

SCALE = {"NEUROTHEORY_SCALE": os.environ.get("NEUROTHEORY_SCALE", "quick")}   # the kernels' scale


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def pytest_configure(config):
    # Set before any JAX import, here and in every kernel (they inherit the environment). Only
    # one process compiles at a time (the tests wait for each kernel), so entries need no lock.
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        cache = tempfile.mkdtemp(prefix="neurotheory-jax-cache-")
        os.environ["JAX_COMPILATION_CACHE_DIR"] = cache
        config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")   # every program
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


class NotebookRuns:
    """Notebooks under ``root``, each run at most once."""

    def __init__(self, root):
        self.root = root
        self.runs: dict[str, Execution] = {}

    def execute(self, notebook: str) -> Execution:
        if notebook not in self.runs:
            self.runs[notebook] = self._run(notebook)
        return self.runs[notebook]

    def _run(self, notebook: str) -> Execution:
        return execute(self.root / notebook, timeout=900, env=SCALE)


class ExecutedBook(NotebookRuns):
    """A copy of the book whose notebooks are executed and saved with their outputs."""

    def __init__(self, root):
        super().__init__(root)
        shutil.copytree(ROOT / "book", root / "book")
        shutil.copytree(ROOT / "tools", root / "tools")   # the site build writes student versions
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(ROOT / name, root / name)

    def _run(self, notebook: str) -> Execution:
        import nbformat

        run = super()._run(notebook)
        nbformat.write(run.notebook, run.path)
        return run


class StudentBook(NotebookRuns):
    """The student versions (tools/student_versions.py), every cell allowed to raise, so a run
    records each cell's error and goes on to the next."""

    def _run(self, notebook: str) -> Execution:
        import nbformat
        import student_versions

        (student,) = student_versions.generate(self.root, [notebook])
        nb = nbformat.read(student, as_version=4)
        for cell in nb.cells:
            cell.metadata.setdefault("tags", []).append("raises-exception")
        nbformat.write(nb, student)
        return super()._run(notebook)


@pytest.fixture(scope="session")
def executed_book(tmp_path_factory) -> ExecutedBook:
    return ExecutedBook(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="session")
def student_book(tmp_path_factory) -> StudentBook:
    return StudentBook(tmp_path_factory.mktemp("student"))
