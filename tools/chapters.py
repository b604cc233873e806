"""The book's chapters as the tests and tools see them: the table of contents, and one way to
run a notebook top to bottom in a fresh kernel (nbclient) within a time limit.

Shared by tests/conftest.py (every notebook at quick scale) and tools/paper_scale.py (chosen
chapters at a chosen scale). nbclient and nbformat are imported only when a notebook runs.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

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


@dataclass
class Execution:
    """One run of a notebook: the executed notebook, its wall time, and what stopped it."""

    path: Path
    seconds: float
    error: str | None
    timed_out: bool
    notebook: Any


def execute(path: Path, *, timeout: float, env: Mapping[str, str] | None = None) -> Execution:
    """Run the notebook at ``path`` top to bottom in a fresh ``python3`` kernel, in its folder.

    ``timeout`` (seconds) bounds the whole run, not each cell: each cell may take what is left.
    ``env`` adds variables to the kernel's environment (``NEUROTHEORY_SCALE``, …). The file is
    not changed; the executed notebook is returned.
    """
    import nbclient
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no notebook at {path}")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise ValueError(f"timeout: must be a positive number of seconds, got {timeout!r}")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()

    def time_left(cell) -> int:
        # nbclient reads 0 as "no limit", so a cell always gets at least one second.
        return max(1, math.ceil(timeout - (time.perf_counter() - start)))

    client = nbclient.NotebookClient(nb, timeout_func=time_left, kernel_name="python3",
                                     store_widget_state=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    error, timed_out = None, False
    try:
        client.execute(env={**os.environ, **(env or {})})
    except nbclient.exceptions.CellTimeoutError as err:
        error, timed_out = str(err)[-4000:], True
    except (nbclient.exceptions.CellExecutionError, nbclient.exceptions.DeadKernelError) as err:
        error = str(err)[-4000:]
    return Execution(path, time.perf_counter() - start, error, timed_out, nb)
