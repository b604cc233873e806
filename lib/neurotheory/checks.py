"""Argument checks shared by the library; each error names the argument it refuses."""

from __future__ import annotations

import numpy as np


def integer(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, refusing non-integers (bools included) and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def number(name: str, value, *, allow_zero: bool = False) -> float:
    """``value`` as a finite positive float (non-negative with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {kind} number, got {value}")
    return value
