"""Student versions of the chapters: the notebooks in the repository are the instructor versions.

For every chapter in _toc.yml the student notebook is the instructor notebook with

- each block between ``### BEGIN SOLUTION: <what to write>`` and ``### END SOLUTION`` in a code
  cell replaced by ``raise NotImplementedError("<what to write>")`` (see ``neurotheory.exercises``);
- every cell tagged ``solution`` (the computations behind the written solutions) dropped;
- every ``<details><summary>Solution…</summary> … </details>`` block in the text replaced by a
  line saying the solution is in the instructor version;
- outputs cleared, and a first cell saying what the version is.

Run ``python tools/student_versions.py [OUT]`` to write them under OUT (default
``_build/student``), mirroring the chapters' paths. The site build writes them into the site
(``book/_ext/neurotheory_site.py``); they are built, never committed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from chapters import ROOT, notebooks
from neurotheory.exercises import BEGIN, END

SOLUTION_TAG = "solution"
GAP = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}:?(?P<task>.*)\n(?:.*\n)*?[ \t]*{re.escape(END)}[^\n]*(?:\n|$)",
                 re.MULTILINE)
DETAILS = re.compile(r"<details>\s*<summary>\s*Solution.*?</details>", re.DOTALL | re.IGNORECASE)
REMOVED = "*Solution: in the instructor version of this chapter.*"
BANNER = ("**Student version.** Run the cells in order. Written solutions are in the instructor "
          "version, the chapter as published.")
GAPS_BANNER = (" Where a cell raises `NotImplementedError`, write the code it asks for; the check cell "
               "after it says whether your function agrees with the library, with a hint when it "
               "does not.")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def open_gaps(code: str) -> str:
    """``code`` with each solution block replaced by ``raise NotImplementedError(task)``."""
    def gap(match):
        task = match["task"].strip() or "write the missing code"
        return f"{match['indent']}raise NotImplementedError({task!r})\n"

    opened = GAP.sub(gap, code)
    if BEGIN in opened or END in opened:
        raise ValueError(f"unmatched solution markers in a code cell:\n{code}")
    return opened


def gaps(notebook: dict) -> int:
    """How many solution blocks the notebook's code cells hold."""
    return sum(len(GAP.findall(_source(cell))) for cell in notebook["cells"] if cell["cell_type"] == "code")


def student_notebook(notebook: dict) -> dict:
    """The student version of an instructor notebook (a dict in nbformat 4); the input is unchanged."""
    if not isinstance(notebook, dict) or "cells" not in notebook:
        raise ValueError("notebook must be an nbformat 4 notebook (a dict with 'cells')")
    student = copy.deepcopy(notebook)
    cells = []
    for cell in student["cells"]:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell["cell_type"] == "code":
            cell["source"] = open_gaps(_source(cell))
            cell["outputs"], cell["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            cell["source"] = DETAILS.sub(REMOVED, _source(cell))
        cells.append(cell)
    text = BANNER + (GAPS_BANNER if gaps(notebook) else "")
    banner = {"cell_type": "markdown", "id": "student-version", "metadata": {}, "source": text}
    at = 1 if cells and cells[0]["cell_type"] == "markdown" else 0   # after the title cell
    student["cells"] = cells[:at] + [banner] + cells[at:]
    return student


def write(path: Path, notebook: dict) -> None:
    """Write ``notebook`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".ipynb.tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(notebook, file, indent=1, ensure_ascii=False)
        file.write("\n")
    os.replace(temporary, path)


def generate(out: Path, chapters: list[str] | None = None) -> list[Path]:
    """Write the student version of each chapter (default: every notebook in _toc.yml) under ``out``."""
    written = []
    for chapter in notebooks() if chapters is None else chapters:
        source = json.loads((ROOT / chapter).read_text(encoding="utf-8"))
        target = Path(out) / chapter
        write(target, student_notebook(source))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "_build" / "student"),
                        help="folder to write the student notebooks under")
    args = parser.parse_args(argv)
    for path in generate(Path(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
