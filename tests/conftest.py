"""Shared fixtures: the repository's notebooks, executed once each at quick scale.

Each notebook runs top to bottom in a fresh kernel (nbclient) inside a copy of the book, so
the notebook tests and the site test share one execution per notebook.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every file named in _toc.yml, root first, as paths without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or ():
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", ()):
        walk(part.get("chapters"))
    return files


def notebooks() -> list[str]:
    """Repository-relative paths of the notebooks in the table of contents."""
    return [f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").is_file()]


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@dataclass
class Execution:
    path: Path
    seconds: float
    error: str | None


class ExecutedBook:
    """A copy of the book whose notebooks are executed on demand, each at most once."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(ROOT / "book", root / "book")
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(ROOT / name, root / name)
        self.runs: dict[str, Execution] = {}

    def execute(self, notebook: str) -> Execution:
        if notebook not in self.runs:
            self.runs[notebook] = self._run(notebook)
        return self.runs[notebook]

    def _run(self, notebook: str) -> Execution:
        import nbclient
        import nbformat

        path = self.root / notebook
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", store_widget_state=False,
                                         resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        error = None
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as err:
            error = str(err)[-4000:]
        nbformat.write(nb, path)
        return Execution(path, time.perf_counter() - start, error)


@pytest.fixture(scope="session")
def executed_book(tmp_path_factory) -> ExecutedBook:
    os.environ.setdefault("NEUROTHEORY_SCALE", "quick")
    return ExecutedBook(tmp_path_factory.mktemp("book"))
