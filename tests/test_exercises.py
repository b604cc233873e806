"""The course layer: self-checking coding exercises and the student versions of the chapters.

Every chapter's coding exercise (a cell with a solution block, then its check cell) runs here
outside the notebook: the solution passes its check, a wrong answer fails it with its message
and hint, and the student version's gap raises NotImplementedError from the check. Every
student version keeps no cell that needs a removed one, and the student versions of the
chapters with gaps run top to bottom, failing only at their gaps.
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import pytest

import student_versions
from conftest import ROOT, notebooks
from neurotheory import exercises


def load(path: str) -> dict:
    return json.loads((ROOT / path).read_text(encoding="utf-8"))


def source(cell) -> str:
    return "".join(cell["source"])


def coding_exercises(notebook: dict) -> list[tuple[str, str]]:
    """(exercise cell, check cell) pairs: each cell holding a solution block and the code cell after it."""
    code = [source(c) for c in notebook["cells"] if c["cell_type"] == "code"]
    return [(cell, code[i + 1]) for i, cell in enumerate(code) if exercises.BEGIN in cell]


def setup_code(notebook: dict) -> str:
    """The chapter's top-level import statements, to run the exercises in."""
    cells = [source(c) for c in notebook["cells"] if c["cell_type"] == "code"]
    return "\n".join(ast.unparse(node) for c in cells for node in ast.parse(c).body
                     if isinstance(node, (ast.Import, ast.ImportFrom)))


def defined(code: str) -> str:
    """The name of the (first) function a cell defines."""
    return next(node.name for node in ast.parse(code).body if isinstance(node, ast.FunctionDef))


WITH_EXERCISES = [path for path in notebooks() if coding_exercises(load(path))]
CASES = [(path, k) for path in WITH_EXERCISES for k in range(len(coding_exercises(load(path))))]


def run_exercise(path: str, k: int, change=None):
    """Run the chapter's imports and its coding exercises up to the k-th, the k-th's function
    optionally replaced by ``change(function)``, then the k-th check; return what it printed."""
    notebook = load(path)
    pairs = coding_exercises(notebook)
    namespace: dict = {}
    exec(setup_code(notebook), namespace)
    for exercise, check in pairs[:k]:
        exec(exercise, namespace)
        exec(check, namespace)
    exercise, check = pairs[k]
    exec(exercise, namespace)
    if change is not None:
        name = defined(exercise)
        namespace[name] = change(namespace[name])
    exec(check, namespace)


def test_check_passes_a_right_answer_and_counts_the_cases(capsys):
    cases = exercises.check("square", lambda x: x ** 2, np.square, lambda rng: (rng.normal(size=4),),
                            hint="multiply x by itself", trials=3)
    assert cases == 3 and "✓ square: matches the library on 3 fresh inputs." in capsys.readouterr().out


def test_check_names_the_failing_case_and_gives_the_hint():
    with pytest.raises(exercises.ExerciseFailed, match=r"✗ square: case 1 of 5 gave .*largest difference.*\nHint: "
                                                        r"multiply x by itself"):
        exercises.check("square", lambda x: 2 * x, np.square, lambda rng: (rng.normal(size=4),),
                        hint="multiply x by itself")
    with pytest.raises(exercises.ExerciseFailed, match=r"shape \(4, 1\), expected \(4,\)"):
        exercises.check("square", lambda x: (x ** 2)[:, None], np.square, lambda rng: (rng.normal(size=4),),
                        hint="keep the shape")
    with pytest.raises(exercises.ExerciseFailed, match="raised ZeroDivisionError"):
        exercises.check("square", lambda x: 1 / 0, np.square, lambda rng: (rng.normal(size=4),), hint="no")


def test_an_open_gap_is_not_caught():
    def gap(x):
        raise NotImplementedError("write x²")

    with pytest.raises(NotImplementedError, match="write x²"):
        exercises.check("square", gap, np.square, lambda rng: (rng.normal(size=4),), hint="")
    with pytest.raises(TypeError, match="callables"):
        exercises.check("square", None, np.square, lambda rng: (1.0,), hint="")
    with pytest.raises(ValueError, match="trials"):
        exercises.check("square", np.square, np.square, lambda rng: (1.0,), hint="", trials=0)


def test_open_gaps_replaces_each_solution_block_and_keeps_the_rest():
    code = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION: return x squared\n    y = x * x\n"
            "    return y\n    ### END SOLUTION\n\n\nprint(1)\n")
    opened = student_versions.open_gaps(code)
    assert opened == "def f(x):\n    \"\"\"Doc.\"\"\"\n    raise NotImplementedError('return x squared')\n\n\nprint(1)\n"
    with pytest.raises(ValueError, match="unmatched"):
        student_versions.open_gaps("### BEGIN SOLUTION: x\nx = 1\n")


def test_student_notebook_drops_solutions_and_keeps_the_instructor_version():
    notebook = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
        {"cell_type": "markdown", "metadata": {},
         "source": "1. Why?\n\n<details><summary>Solution</summary>\n\nBecause.\n</details>\n"},
        {"cell_type": "code", "metadata": {"tags": ["hide-cell", "solution"]}, "source": "print(2)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "2"}], "execution_count": 1},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2,
         "source": "def f():\n    ### BEGIN SOLUTION: return 3\n    return 3\n    ### END SOLUTION\n"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    before = json.dumps(notebook)
    student = student_versions.student_notebook(notebook)
    assert json.dumps(notebook) == before
    texts = [source({"source": c["source"]}) for c in student["cells"]]
    assert texts[0] == "# Title" and texts[1].startswith("**Student version.**")
    assert "Because" not in texts[2] and student_versions.REMOVED in texts[2]
    assert texts[3] == "def f():\n    raise NotImplementedError('return 3')\n"
    assert len(student["cells"]) == 4 and student["cells"][3]["execution_count"] is None
    assert student_versions.gaps(notebook) == 1 and student_versions.gaps(student) == 0


CHAPTERS = [path for path in notebooks() if not path.startswith("book/start-here/")]   # the tour has none
KINDS = ("Conceptual", "Derivation", "Coding", "Open-ended")
ITEM = re.compile(r"^(?:\*\*\d+\..*?\*\*|\d+\.(?:\s+\*\*.*?\*\*)?|\*\*C\d+\..*?\*\*)\s+(?P<rest>.*)$")


def exercise_kinds(notebook: dict) -> list[str | None]:
    """The kind each exercise of the chapter's Exercises part names first (None when it names none)."""
    markdown = "\n".join(source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
    if "## Exercises" not in markdown:
        return []
    part = markdown.split("## Exercises", 1)[1].split("## References", 1)[0]
    kinds = []
    for line in re.sub(r"<details>.*?</details>", "", part, flags=re.DOTALL).splitlines():
        item = ITEM.match(line)
        if item:
            kinds.append(next((k for k in KINDS if item["rest"].startswith(f"*{k}.*")), None))
    return kinds


def test_exercise_kinds_are_read_from_the_list():
    notebook = {"cells": [{"cell_type": "markdown", "source": [
        "## Exercises\n\n1. *Derivation.* Show it.\n\n<details><summary>Solution</summary>\n",
        "2. Not an exercise.\n</details>\n\n**2. Title.** *Coding.* Do it.\n",
        "3. **Title.** Think.\n\n**C1. Gap.** *Coding.* Write it.\n## References\n4. *Conceptual.* No.\n"]}]}
    assert exercise_kinds(notebook) == ["Derivation", "Coding", None, "Coding"]


@pytest.mark.parametrize("path", CHAPTERS)
def test_every_chapter_has_labelled_exercises_of_each_kind(path):
    kinds = exercise_kinds(load(path))
    assert len(kinds) >= 4 and None not in kinds, f"{path}: exercises without a kind: {kinds}"
    assert set(kinds) == set(KINDS), f"{path}: kinds {sorted(set(kinds))}, expected all of {KINDS}"


def test_chapters_have_self_checking_coding_exercises():
    # Every chapter has two or more, and every solution block opens a gap.
    assert set(WITH_EXERCISES) == set(CHAPTERS), sorted(set(CHAPTERS) - set(WITH_EXERCISES))
    for path in WITH_EXERCISES:
        assert student_versions.gaps(load(path)) >= 2, path


@pytest.mark.parametrize("path, k", CASES)
def test_solution_passes_its_check(path, k, capsys):
    run_exercise(path, k)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("path, k", CASES)
def test_check_fails_a_wrong_answer_with_its_hint(path, k):
    # A test of the checks: the solution's output off by 1 % and a little more.
    def wrong(function):
        return lambda *args: np.asarray(function(*args)) * 1.01 + 0.01

    with pytest.raises(exercises.ExerciseFailed, match=r"✗ .*\nHint: \S"):
        run_exercise(path, k, wrong)


@pytest.mark.parametrize("path, k", CASES)
def test_the_student_gap_raises_from_its_check(path, k):
    def gap(function):
        student = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": coding_exercises(load(path))[k][0]}
        namespace: dict = {}
        exec(setup_code(load(path)), namespace)
        exec(source(student_versions.student_notebook({"cells": [student]})["cells"][1]), namespace)
        return namespace[function.__name__]

    with pytest.raises(NotImplementedError):
        run_exercise(path, k, gap)


def names(code: str, kind) -> set[str]:
    tree = ast.parse(code)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, kind)}
    if kind is ast.Store:
        stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        stored |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}   # parameters
    return stored


@pytest.mark.parametrize("path", notebooks())
def test_no_kept_cell_needs_a_removed_solution_cell(path):
    # Walking the cells in order: no kept cell reads a name last set by a removed one.
    set_by_removed, needing = set(), []
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = source(cell)
        if student_versions.SOLUTION_TAG in cell["metadata"].get("tags", []):
            set_by_removed |= names(code, ast.Store)
            continue
        needing += sorted((names(code, ast.Load) - names(code, ast.Store)) & set_by_removed)
        set_by_removed -= names(code, ast.Store)
    assert not needing, f"{path}: kept cells read names set only in solution cells: {needing}"


@pytest.mark.parametrize("path", WITH_EXERCISES)
def test_student_version_runs_and_stops_only_at_its_gaps(student_book, path):
    # Every gap raises NotImplementedError (from its check cell); no other cell fails.
    pytest.importorskip("nbformat")   # not in the lowest-versions run (.ci/run)
    run = student_book.execute(path)
    assert run.error is None, run.error
    errors = [output["ename"] for cell in run.notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert errors and set(errors) == {"NotImplementedError"}, errors
    assert len(errors) == student_versions.gaps(load(path))
