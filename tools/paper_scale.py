"""Measure chapters and benchmarks at a scale, and write the chapter headers' run times from them.

    python tools/paper_scale.py --dry-run                   # the plan: what has no result yet
    python tools/paper_scale.py --timeout 300 --budget 540  # on a GPU: run that plan
    python tools/paper_scale.py book/start-here/tour.ipynb benchmarks/population.py
    python tools/paper_scale.py --update-headers            # headers' "Run time:" from the results

Each chapter runs top to bottom in a fresh kernel (tools/chapters.py, the runner the notebook
tests use) and each benchmark as a script, with ``NEUROTHEORY_SCALE`` set to ``--scale``
(default ``paper``). One entry per path and scale goes to ``<results>/<device>.json``
(``benchmarks/results/nvidia-h200.json``, ``cpu.json``, …), rewritten atomically after each run:
wall time, how it ended, ``runtime.describe()``, the last lines it printed, the git revision and
the date. Named paths run even when they have a result; with none named, every chapter in
_toc.yml and every benchmark without a result for this device and scale runs, in that order,
until the next one's estimate (its last wall time here, else ``--timeout``) would overrun
``--budget``. No run outlasts its timeout or what is left of the budget. In a copy of the
repository without its git history, give the revision measured with ``--revision``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from chapters import ROOT, execute, notebooks
from neurotheory.runtime import ENV_VAR, SCALES

RESULTS = ROOT / "benchmarks" / "results"
HEADLINE_LINES = 40   # the last lines a run printed, kept as its headline numbers
LINE_CHARS = 300      # each cut to this length
ERROR_CHARS = 2000    # the tail of an error or traceback
CPU = "cpu"           # the device name of JAX's CPU backend; every other device is an accelerator


def targets() -> list[str]:
    """Every chapter notebook in _toc.yml, in its order, then every benchmark script, sorted."""
    scripts = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "benchmarks").glob("*.py"))
    return notebooks() + scripts


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"scale: {scale!r} is not a scale; use one of {', '.join(SCALES)}")
    return scale


def check_seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}: must be a positive number of seconds, got {value!r}")
    return float(value)


def device_name(kind: str) -> str:
    """A file-system-safe name for a JAX ``device_kind``: ``"NVIDIA H200"`` → ``"nvidia-h200"``."""
    if not isinstance(kind, str):
        raise TypeError(f"kind: expected a device kind string, got {type(kind).__name__}")
    name = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")
    if not name:
        raise ValueError(f"kind: {kind!r} has no letters or digits to name a results file by")
    return name


def device_report(scale: str) -> dict:
    """JAX's first device kind and ``runtime.describe()`` at ``scale``, asked in a child process
    (so this one never claims the GPU memory the runs need)."""
    code = ("import jax; from neurotheory import runtime; "
            "print(jax.devices()[0].device_kind); print(runtime.describe())")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, ENV_VAR: check_scale(scale)},
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return {"device_kind": out[0], "describe": out[1]}


def revision() -> str:
    """The checkout's git commit, with ``-dirty`` when the library, book or benchmarks differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "--short=12", "HEAD").strip()
        changed = git("status", "--porcelain", "--", "lib", "book", "benchmarks", ":!benchmarks/results")
    except (OSError, subprocess.CalledProcessError) as err:
        raise RuntimeError(f"no git revision in {ROOT} ({err}); pass --revision") from err
    return commit + ("-dirty" if changed.strip() else "")


def results_file(results: Path, device: str) -> Path:
    return Path(results) / f"{device_name(device)}.json"


def load(results: Path, device: str) -> list[dict]:
    """The entries recorded for ``device`` in the folder ``results`` (none when it has no file)."""
    path = results_file(results, device)
    return json.loads(path.read_text())["entries"] if path.is_file() else []


def load_all(results: Path) -> dict[str, list[dict]]:
    """Every results file in the folder ``results``, by device name."""
    results = Path(results)
    if not results.is_dir():
        raise ValueError(f"results: {results} is not a folder")
    return {p.stem: json.loads(p.read_text())["entries"] for p in sorted(results.glob("*.json"))}


def save(results: Path, device: str, entries: Sequence[dict]) -> Path:
    """Write ``entries`` for ``device`` atomically (a temporary file in the same folder, then
    ``os.replace``), sorted by path and scale."""
    path = results_file(results, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(entries, key=lambda e: (e["path"], SCALES.index(e["scale"])))
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp",
                                     delete=False, encoding="utf-8") as tmp:
        json.dump({"device": path.stem, "entries": ordered}, tmp, indent=1, ensure_ascii=False)
        tmp.write("\n")
        tmp.flush()
        os.fsync(tmp.fileno())
    os.chmod(tmp.name, 0o644)  # a temporary file is private; the results are for everyone
    os.replace(tmp.name, path)
    return path


def recorded(entries: Sequence[dict], path: str, scale: str) -> dict | None:
    """The entry for ``path`` at ``scale``, if there is one."""
    return next((e for e in entries if e["path"] == path and e["scale"] == check_scale(scale)), None)


def select(named: Sequence[str], entries: Sequence[dict], scale: str) -> list[str]:
    """The paths to run: ``named`` as given, else every target without an entry at ``scale``."""
    check_scale(scale)
    known = targets()
    unknown = [p for p in named if p not in known]
    if unknown:
        raise ValueError(f"paths: {', '.join(unknown)} not a chapter in _toc.yml or a script in "
                         f"benchmarks/ (give them relative to the repository root)")
    return list(named) or [p for p in known if recorded(entries, p, scale) is None]


def estimate(path: str, entries: Sequence[dict], *, scale: str, timeout: float) -> float:
    """Seconds ``path`` is expected to take: its last wall time at ``scale`` here, else ``timeout``."""
    entry = recorded(entries, path, scale)
    return entry["seconds"] if entry else check_seconds("timeout", timeout)


def schedule(paths: Sequence[str], entries: Sequence[dict], *, scale: str, timeout: float,
             budget: float | None, run: Callable[[str, float, float], float]) -> list[str]:
    """Start ``run(path, limit, estimate)`` (which returns the seconds it took) for each path in
    turn, unless its estimate would take the time spent past ``budget``: then start no more.
    ``limit`` is the timeout, or what is left of the budget if less. Returns the paths not started."""
    check_scale(scale)
    check_seconds("timeout", timeout)
    if budget is not None:
        check_seconds("budget", budget)
    spent = 0.0
    for i, path in enumerate(paths):
        guess = estimate(path, entries, scale=scale, timeout=timeout)
        if budget is not None and spent + guess > budget:
            return list(paths[i:])
        spent += run(path, timeout if budget is None else min(timeout, budget - spent), guess)
    return []


def last_lines(text: str) -> list[str]:
    return [line[:LINE_CHARS] for line in text.splitlines() if line.strip()][-HEADLINE_LINES:]


def run_chapter(path: str, scale: str, limit: float) -> dict:
    """Run a chapter notebook at ``scale`` within ``limit`` seconds; what it printed is its headline."""
    run = execute(ROOT / path, timeout=check_seconds("limit", limit), env={ENV_VAR: check_scale(scale)})
    printed = "".join(out.get("text", "") for cell in run.notebook.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", ())
                      if out.get("output_type") == "stream" and out.get("name") == "stdout")
    status = "timeout" if run.timed_out else "failed" if run.error else "ok"
    return {"kind": "chapter", "seconds": run.seconds, "status": status, "headline": last_lines(printed),
            "error": run.error and run.error[-ERROR_CHARS:]}


def run_benchmark(path: str, scale: str, limit: float) -> dict:
    """Run a benchmark script at ``scale`` within ``limit`` seconds; the end of its stdout is its headline."""
    env = {**os.environ, ENV_VAR: check_scale(scale)}
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(ROOT / path)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=check_seconds("limit", limit))
        stdout, error = done.stdout, (done.stderr[-ERROR_CHARS:] if done.returncode else None)
        status = "failed" if done.returncode else "ok"
    except subprocess.TimeoutExpired as err:
        partial = err.stdout or ""
        stdout = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        error, status = f"stopped after {limit:.0f} s", "timeout"
    return {"kind": "benchmark", "seconds": time.perf_counter() - start, "status": status,
            "headline": last_lines(stdout), "error": error}


def measure(path: str, *, scale: str, limit: float, report: Mapping[str, str], revision: str) -> dict:
    """One results entry: run ``path`` (a chapter or a benchmark) and say where, when and from what."""
    runner = run_chapter if path.endswith(".ipynb") else run_benchmark
    outcome = runner(path, scale, limit)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"path": path, "kind": outcome.pop("kind"), "scale": scale, **outcome, "time_limit_s": limit,
            "device_kind": report["device_kind"], "describe": report["describe"], "cpu_cores": cores,
            "revision": revision, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def duration(seconds: float) -> str:
    """A run time as the headers write it: ``"40 s"``, ``"1.5 min"``, ``"12 min"``."""
    check_seconds("seconds", seconds)
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.1f}".removesuffix(".0") + " min"


def header_line(path: str, current: str, results: Mapping[str, Sequence[dict]]) -> str:
    """The "Run time:" line for the chapter ``path``: quick and standard from the CPU results when
    they have them (else as ``current`` says), paper from the latest accelerator result."""
    if not current.startswith("Run time:"):
        raise ValueError(f"current: expected a line starting 'Run time:', got {current[:40]!r}")
    said = {}
    for segment in current.removeprefix("Run time:").strip().split(" · "):
        word = segment.split(maxsplit=1)[0].rstrip(":") if segment.strip() else ""
        said[word] = segment

    def ok(entry):
        return entry["path"] == path and entry["status"] == "ok"

    cpu = {e["scale"]: e for e in results.get(CPU, ()) if ok(e)}
    accelerated = sorted((e for device, entries in results.items() if device != CPU for e in entries
                          if e["path"] == path and e["scale"] == "paper" and e["status"] in ("ok", "timeout")),
                         key=lambda e: e["date"])
    quick = (f"quick {duration(cpu['quick']['seconds'])}" if "quick" in cpu
             else said.get("quick", "quick not yet measured"))
    standard = (f"standard {duration(cpu['standard']['seconds'])} ({cpu['standard']['cpu_cores']} CPU cores)"
                if "standard" in cpu else said.get("standard", "standard not yet measured"))
    if accelerated and accelerated[-1]["status"] == "ok":
        paper = f"paper {duration(accelerated[-1]['seconds'])} (one {accelerated[-1]['device_kind']})"
    elif accelerated:
        paper = (f"paper over {duration(accelerated[-1]['time_limit_s'])} on one "
                 f"{accelerated[-1]['device_kind']} (stopped at the time limit)")
    else:
        paper = "paper not yet measured on a GPU"
        if "paper" in cpu:
            paper += f" ({duration(cpu['paper']['seconds'])} on {cpu['paper']['cpu_cores']} CPU cores)"
    return f"Run time: {quick} · {standard} · {paper}"


def update_header(notebook: Path, path: str, results: Mapping[str, Sequence[dict]]) -> bool:
    """Rewrite the "Run time:" line of ``notebook``'s first cell for the chapter ``path`` (the
    results' key); outputs stay as stored. Returns whether the file changed."""
    import nbformat

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ValueError(f"notebook: no file at {notebook}")
    nb = nbformat.read(notebook, as_version=4)
    first = nb.cells[0] if nb.cells else None
    lines = first.source.split("\n") if first is not None and first.cell_type == "markdown" else []
    at = next((i for i, line in enumerate(lines) if line.startswith("Run time:")), None)
    if at is None:
        raise ValueError(f"notebook: {notebook} has no 'Run time:' line in its first markdown cell")
    line = header_line(path, lines[at], results)
    if line == lines[at]:
        return False
    lines[at] = line
    first.source = "\n".join(lines)
    nbformat.write(nb, notebook)
    return True


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="chapters (.ipynb) and benchmarks (.py), relative to the "
                        "repository root; default: every one without a result for this device and scale")
    parser.add_argument("--scale", default="paper", choices=SCALES, help="NEUROTHEORY_SCALE for the runs")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one run may take (default 900)")
    parser.add_argument("--budget", type=float, help="seconds in all; start no run whose estimate would exceed it")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of <device>.json files")
    parser.add_argument("--revision", help="the git revision to record (default: asked of git)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--update-headers", action="store_true",
                        help="rewrite the chapters' 'Run time:' lines from the results; run nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.update_headers:
        results = load_all(args.results)
        chosen = args.paths or targets()
        select(chosen, [], args.scale)  # names each path that is not a chapter or benchmark
        for path in [p for p in chosen if p.endswith(".ipynb")]:
            print(f"{'updated' if update_header(ROOT / path, path, results) else 'unchanged'}  {path}")
        return 0
    report = device_report(args.scale)
    device = device_name(report["device_kind"])
    entries = load(args.results, device)
    paths = select(args.paths, entries, args.scale)
    print(f"{report['describe']} → {results_file(args.results, device)}")
    failed = []
    if args.dry_run:
        def run(path, limit, guess):
            print(f"run   {path}  (estimate {guess:.0f} s, limit {limit:.0f} s)")
            return guess
    else:
        stamp = args.revision or revision()

        def run(path, limit, guess):
            entry = measure(path, scale=args.scale, limit=limit, report=report, revision=stamp)
            entries[:] = [e for e in entries if (e["path"], e["scale"]) != (path, args.scale)] + [entry]
            save(args.results, device, entries)
            print(f"{entry['status']:7s} {path}  {entry['seconds']:.1f} s")
            if entry["status"] == "failed":
                failed.append(path)
            return entry["seconds"]
    for path in schedule(paths, entries, scale=args.scale, timeout=args.timeout, budget=args.budget, run=run):
        print(f"later {path}  (the budget would be exceeded)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
