"""tools/paper_scale.py: a chapter measured into a results file, the plan it makes, the headers it writes."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys

import jax
import nbformat
import pytest

import chapters
import paper_scale
from conftest import ROOT

TOUR = "book/start-here/tour.ipynb"
GPU = "nvidia-h200"


def entry(path, scale, seconds, *, status="ok", device_kind="cpu", cpu_cores=2, limit=900.0):
    return {"path": path, "scale": scale, "seconds": seconds, "status": status, "time_limit_s": limit,
            "device_kind": device_kind, "cpu_cores": cpu_cores, "date": "2026-12-01T00:00:00+00:00"}


def this_device() -> str:
    return paper_scale.device_name(jax.devices()[0].device_kind)


@pytest.mark.slow
def test_measures_a_chapter_into_the_results_file(tmp_path):
    """The smallest chapter at quick scale, through the command line, into a fresh folder."""
    done = subprocess.run([sys.executable, "tools/paper_scale.py", TOUR, "--scale", "quick",
                           "--timeout", "600", "--results", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((tmp_path / f"{this_device()}.json").read_text())
    assert written["device"] == this_device()
    [record] = written["entries"]
    assert set(record) == {"path", "kind", "scale", "seconds", "status", "headline", "error", "time_limit_s",
                           "device_kind", "describe", "cpu_cores", "revision", "date"}
    assert (record["path"], record["kind"], record["scale"], record["status"]) == (TOUR, "chapter", "quick", "ok")
    assert record["error"] is None
    assert isinstance(record["seconds"], float) and 0 < record["seconds"] <= record["time_limit_s"] == 600
    assert record["describe"].startswith("scale=quick · JAX ")
    assert record["device_kind"] == jax.devices()[0].device_kind
    assert isinstance(record["cpu_cores"], int) and record["cpu_cores"] >= 1
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert record["revision"] in (head, f"{head}-dirty")
    assert datetime.datetime.fromisoformat(record["date"]).tzinfo is not None
    assert 0 < len(record["headline"]) <= paper_scale.HEADLINE_LINES
    assert all(isinstance(line, str) and len(line) <= paper_scale.LINE_CHARS for line in record["headline"])
    assert any(line.startswith("largest relative gap between theory and simulation") for line in record["headline"])
    assert not list(tmp_path.glob(".*")), "the temporary file of the atomic write was left behind"


def test_selects_what_has_no_result_at_this_scale():
    targets = paper_scale.targets()
    assert targets[0] == TOUR and "benchmarks/population.py" in targets
    assert all(t.endswith(".ipynb") for t in targets[:len(chapters.notebooks())])
    entries = [entry(TOUR, "quick", 30.0)]
    assert paper_scale.select([], entries, "quick") == targets[1:]
    assert paper_scale.select([], entries, "paper") == targets
    assert paper_scale.select([TOUR], entries, "quick") == [TOUR], "a named path runs again"
    with pytest.raises(ValueError, match="paths: book/nowhere.ipynb"):
        paper_scale.select(["book/nowhere.ipynb"], entries, "quick")


def test_budget_stops_starting_new_runs():
    entries = [entry("a", "paper", 10.0), entry("b", "paper", 50.0), entry("d", "paper", 1.0)]
    started = []

    def run(path, limit, guess):
        started.append((path, limit, guess))
        return {"a": 12.0, "b": 50.0}[path]  # a takes longer than last time

    left = paper_scale.schedule(["a", "b", "c", "d"], entries, scale="paper", timeout=100, budget=70, run=run)
    # a (estimate 10) and b (50) fit; c has no result, so its estimate is the timeout, and
    # 62 + 100 > 70 stops the run there, though d alone would fit.
    assert started == [("a", 70.0, 10.0), ("b", 58.0, 50.0)]
    assert left == ["c", "d"]
    assert paper_scale.schedule(["c"], entries, scale="paper", timeout=100, budget=99, run=run) == ["c"]
    started.clear()
    assert paper_scale.schedule(["a", "b"], entries, scale="paper", timeout=40, budget=None, run=run) == []
    assert [limit for _, limit, _ in started] == [40.0, 40.0]


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    paper_scale.save(tmp_path, this_device(), [entry(TOUR, "quick", 30.0)])
    before = (tmp_path / f"{this_device()}.json").read_text()
    code = paper_scale.main(["--dry-run", "--scale", "quick", "--timeout", "100", "--budget", "250",
                             "--results", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    targets = paper_scale.targets()
    assert code == 0
    assert lines[0].startswith("scale=quick · JAX ") and lines[0].endswith(f"{this_device()}.json")
    assert [l.split()[:2] for l in lines[1:]] == (
        [["run", t] for t in targets[1:3]] + [["later", t] for t in targets[3:]])
    assert (tmp_path / f"{this_device()}.json").read_text() == before


def test_save_writes_sorted_entries_atomically(tmp_path):
    entries = [entry("b", "paper", 3.0), entry("b", "quick", 1.0), entry("a", "standard", 2.0)]
    path = paper_scale.save(tmp_path, "NVIDIA H200", entries)
    assert path == tmp_path / f"{GPU}.json" and path.stat().st_mode & 0o777 == 0o644
    assert [(e["path"], e["scale"]) for e in paper_scale.load(tmp_path, GPU)] == [
        ("a", "standard"), ("b", "quick"), ("b", "paper")]
    assert paper_scale.load_all(tmp_path) == {GPU: paper_scale.load(tmp_path, GPU)}
    assert paper_scale.load(tmp_path, "cpu") == []
    assert [p.name for p in tmp_path.iterdir()] == [f"{GPU}.json"]


def first_cell_line(notebook) -> str:
    first = nbformat.read(notebook, as_version=4).cells[0].source
    return next(line for line in first.splitlines() if line.startswith("Run time:"))


def test_headers_take_their_times_from_the_results(tmp_path):
    copy = tmp_path / "tour.ipynb"
    shutil.copy(ROOT / TOUR, copy)
    quick_and_standard = first_cell_line(copy).split(" · paper")[0]
    paper_scale.update_header(copy, TOUR, {})
    assert first_cell_line(copy) == f"{quick_and_standard} · paper not yet measured on a GPU", (
        "with no results, quick and standard stay as typed")

    results = {"cpu": [entry(TOUR, "quick", 41.0), entry(TOUR, "standard", 150.0),
                       entry(TOUR, "paper", 400.0, cpu_cores=16), entry("other.ipynb", "quick", 5.0)]}
    assert paper_scale.update_header(copy, TOUR, results)
    assert first_cell_line(copy) == ("Run time: quick 41 s · standard 2.5 min (2 CPU cores) · "
                                     "paper not yet measured on a GPU (6.7 min on 16 CPU cores)")

    results[GPU] = [entry(TOUR, "paper", 700.0, status="timeout", device_kind="NVIDIA H200", limit=600.0)]
    paper_scale.update_header(copy, TOUR, results)
    assert first_cell_line(copy).endswith("paper over 10 min on one NVIDIA H200 (stopped at the time limit)")

    results[GPU].append({**entry(TOUR, "paper", 312.0, device_kind="NVIDIA H200"), "date": "2026-12-02T00:00:00+00:00"})
    results[GPU].append({**entry(TOUR, "paper", 1.0, status="failed", device_kind="NVIDIA H200"),
                         "date": "2026-12-03T00:00:00+00:00"})
    assert paper_scale.update_header(copy, TOUR, results)
    assert first_cell_line(copy) == "Run time: quick 41 s · standard 2.5 min (2 CPU cores) · paper 5.2 min (one NVIDIA H200)"
    assert not paper_scale.update_header(copy, TOUR, results), "a second rewrite changes nothing"

    original, rewritten = (nbformat.read(p, as_version=4) for p in (ROOT / TOUR, copy))
    assert [c.source for c in original.cells[1:]] == [c.source for c in rewritten.cells[1:]]
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in rewritten.cells if c.cell_type == "code"), "outputs must stay stripped"


def test_a_header_with_no_times_yet_says_so():
    line = paper_scale.header_line(TOUR, "Run time: RUNTIME_LINE", {})
    assert line == ("Run time: quick not yet measured · standard not yet measured · "
                    "paper not yet measured on a GPU")


def test_durations_read_like_the_headers():
    assert [paper_scale.duration(s) for s in (0.2, 40.4, 90, 720)] == ["1 s", "40 s", "1.5 min", "12 min"]


def test_bad_inputs_name_the_argument(tmp_path):
    assert paper_scale.device_name("NVIDIA H200") == GPU and paper_scale.device_name("cpu") == "cpu"
    with pytest.raises(ValueError, match="kind"):
        paper_scale.device_name(" / ")
    with pytest.raises(TypeError, match="kind"):
        paper_scale.device_name(3)
    with pytest.raises(ValueError, match="scale: 'huge'"):
        paper_scale.select([], [], "huge")
    with pytest.raises(ValueError, match="scale: 'huge'"):
        paper_scale.schedule([], [], scale="huge", timeout=10, budget=None, run=None)
    with pytest.raises(ValueError, match="budget"):
        paper_scale.schedule([], [], scale="paper", timeout=10, budget=0, run=None)
    with pytest.raises(ValueError, match="timeout"):
        paper_scale.schedule([], [], scale="paper", timeout=-1, budget=None, run=None)
    with pytest.raises(ValueError, match="seconds"):
        paper_scale.duration(0)
    with pytest.raises(ValueError, match="current"):
        paper_scale.header_line(TOUR, "Runtime 3 min", {})
    with pytest.raises(ValueError, match="notebook"):
        paper_scale.update_header(tmp_path / "missing.ipynb", TOUR, {})
    with pytest.raises(ValueError, match="results"):
        paper_scale.load_all(tmp_path / "missing")
    with pytest.raises(ValueError, match="timeout"):
        chapters.execute(ROOT / TOUR, timeout=0)
    with pytest.raises(ValueError, match="path"):
        chapters.execute(tmp_path / "missing.ipynb", timeout=10)


@pytest.mark.slow
def test_the_time_limit_bounds_the_whole_run(tmp_path):
    """Three cells of two seconds each under a four-second limit: the third is cut off."""
    notebook = tmp_path / "slow.ipynb"
    cells = [nbformat.v4.new_code_cell("import time; time.sleep(2)") for _ in range(3)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells + [nbformat.v4.new_code_cell("print('done')")]), notebook)
    stored = notebook.read_text()
    run = chapters.execute(notebook, timeout=4)
    assert run.timed_out and run.error and run.seconds < 10
    assert not run.notebook.cells[3].outputs, "the cell after the limit never ran"
    assert notebook.read_text() == stored, "the notebook file is left as it was"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), notebook)
    run = chapters.execute(notebook, timeout=60)
    assert not run.timed_out and "ZeroDivisionError" in run.error
