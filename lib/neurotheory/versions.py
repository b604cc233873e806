"""The package versions the library needs, checked before a chapter runs.

The lower bounds live once, in ``pyproject.toml``; this module reads them back from the
installed package's metadata and compares them with what is installed. It uses the
standard library only, so it works even where a dependency is too old to import. Every
chapter's setup cell calls :func:`require`, which stops the notebook with one line saying
what to upgrade instead of letting a chapter fail halfway.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

PACKAGE = "neurotheory"
_BOUND = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)\s*$")


def release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string: ``"0.4.30.dev1"`` → ``(0, 4, 30)``."""
    if not isinstance(version, str):
        raise TypeError(f"version must be a string, got {type(version).__name__}")
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    if match is None:
        raise ValueError(f"version {version!r} does not start with a release number")
    return tuple(int(part) for part in match.group().split("."))


def requirements() -> dict[str, str]:
    """The library's lower bounds, ``{name: minimum}``, as installed (from ``pyproject.toml``)."""
    bounds = {}
    for line in metadata.requires(PACKAGE) or ():
        if ";" in line:       # extras and environment markers: not needed to run a chapter
            continue
        match = _BOUND.match(line)
        if match:
            bounds[match.group(1).lower()] = match.group(2)
    return bounds


def outdated() -> dict[str, str]:
    """Packages missing or older than the library's bounds: ``{package: reason}`` (empty when fine)."""
    found = {}
    for name, minimum in requirements().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = f"{name} is missing (needs ≥ {minimum})"
            continue
        if release(installed) < release(minimum):
            found[name] = f"{name} {installed} is older than {minimum}"
    return found


def stale() -> dict[str, str]:
    """Packages upgraded on disk after an older copy was imported into this kernel (a restart fixes them)."""
    found = {}
    for name in requirements():
        loaded = getattr(sys.modules.get(name.replace("-", "_")), "__version__", None)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if isinstance(loaded, str) and release(loaded) != release(installed):
            found[name] = f"{name} {loaded} is loaded but {installed} is installed"
    return found


def install_command(names) -> str:
    """The pip command that brings the named packages up to the library's bounds (and no further)."""
    bounds = requirements()
    unknown = [name for name in names if name not in bounds]
    if unknown:
        raise ValueError(f"names must be packages the library requires ({', '.join(bounds)}), got {unknown}")
    return "pip install " + " ".join(f"'{name}>={bounds[name]}'" for name in names)


def require() -> None:
    """Stop with one line naming what to upgrade, and the command, when anything is :func:`outdated`
    or :func:`stale`."""
    old = outdated()
    restart = {name: reason for name, reason in stale().items() if name not in old}
    if not old and not restart:
        return
    fix = f"run `{install_command(list(old))}`, then restart the runtime" if old else "restart the runtime"
    line = f"neurotheory cannot run here: {'; '.join({**old, **restart}.values())}. To fix: {fix}, and run again."
    print(line)
    raise SystemExit(line)
