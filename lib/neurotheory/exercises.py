"""Coding exercises that check themselves.

A chapter's coding exercise is two cells. The first is the student's: a function whose body,
in the instructor version (the notebook in the repository), sits between the markers ::

    ### BEGIN SOLUTION: <what to write>
    ...
    ### END SOLUTION

and which ``tools/student_versions.py`` replaces by ``raise NotImplementedError("<what to
write>")``. The second is the check: :func:`check` calls the student's function and the
library's on fresh random inputs and prints a pass, or raises :class:`ExerciseFailed` with what
went wrong and a hint. A gap left open raises ``NotImplementedError`` from the check cell, so a
student notebook run top to bottom stops at its gaps and nowhere else.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import checks

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


class ExerciseFailed(AssertionError):
    """A student's function disagrees with the library (the message says where and gives a hint)."""


def _describe(value: Any) -> str:
    array = np.asarray(value)
    if array.size <= 6:
        return np.array2string(array, precision=4, separator=", ")
    return f"an array of shape {array.shape}"


def _agree(got, expected, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``expected`` (same shape, close values); else what differs."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got)):
        return "NaN or infinite values"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(got - expected)))
        return f"{_describe(got)}, expected {_describe(expected)} (largest difference {worst:.3g})"
    return None


def check(name: str, student: Callable, reference: Callable, inputs: Callable[[np.random.Generator], tuple],
          *, hint: str, trials: int = 5, seed: int = 2026, rtol: float = 1e-4, atol: float = 1e-6) -> int:
    """Compare ``student(*args)`` with ``reference(*args)`` for ``trials`` argument tuples
    ``args = inputs(rng)``, drawn from a generator seeded by ``seed`` (inputs the chapter never
    showed). Prints a pass and returns the number of cases checked; raises
    :class:`ExerciseFailed` naming the first failing case, with ``hint``. A student function
    that raises ``NotImplementedError`` (an open gap) is not caught.
    """
    if not callable(student) or not callable(reference) or not callable(inputs):
        raise TypeError("student, reference and inputs must be callables")
    trials = checks.integer("trials", trials)
    rng = np.random.default_rng(checks.integer("seed", seed, minimum=0))
    for case in range(1, trials + 1):
        args = inputs(rng)
        expected = reference(*args)
        try:
            got = student(*args)
        except NotImplementedError:
            raise
        except Exception as error:  # the student's code failed: report it as a failed check
            raise ExerciseFailed(f"✗ {name}: case {case} of {trials} raised "
                                 f"{type(error).__name__}: {error}\nHint: {hint}") from error
        problem = _agree(got, expected, rtol, atol)
        if problem is not None:
            raise ExerciseFailed(f"✗ {name}: case {case} of {trials} gave {problem}.\nHint: {hint}")
    print(f"✓ {name}: matches the library on {trials} fresh inputs.")
    return trials
