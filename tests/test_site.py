"""The built site: builds without warnings, serves its own scripts, reads well, and is interactive.

The book is built from notebooks executed at quick scale (the `executed_book` fixture) and
opened in headless Chromium with every host but 127.0.0.1 unresolvable, so any CDN request
fails and shows up here. Every chapter page of _toc.yml is read at a 1100 px window: its
charts fit the text column, its code blocks do not scroll, its outputs carry no errno,
resolver text, host names or raw Python reprs, and the console stays free of errors and
warnings (`page_problems`).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import altair as alt
import pytest
import yaml

from conftest import ROOT, config, notebooks

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "sudo apt-get update && sudo apt-get install -y chromium chromium-driver"


def ensure_chromium() -> None:
    """Debian's Chromium and ChromeDriver: installed here when running as root, else explained."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=env)
        return
    pytest.fail(f"the site test needs Debian's Chromium and ChromeDriver: {INSTALL_HINT}")


def jupyter_book() -> str:
    beside_python = Path(sys.executable).parent / "jupyter-book"
    return str(beside_python) if beside_python.exists() else shutil.which("jupyter-book") or "jupyter-book"


@pytest.fixture(scope="session")
def site(executed_book, tmp_path_factory) -> Path:
    """Build the executed copy of the book (no re-execution) with warnings as errors."""
    for path in notebooks():
        run = executed_book.execute(path)
        if run.error:
            pytest.fail(f"{path} did not execute; see test_notebooks")
    cfg = config()
    cfg["execute"]["execute_notebooks"] = "off"
    (executed_book.root / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = executed_book.root / "_build"
    result = subprocess.run(
        [jupyter_book(), "build", str(executed_book.root), "-W", "--keep-going"],
        capture_output=True, text=True)
    assert result.returncode == 0, f"jupyter-book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return out / "html"


@pytest.fixture(scope="session")
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,2000",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def wait_for(condition, timeout=30.0, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


MARKS_JS = """
return Array.from(document.querySelectorAll('.neurotheory-chart')).map(function (chart) {
  var marks = chart.querySelectorAll('g.mark-symbol path, g.mark-line path, g.mark-rect path');
  return {slider: !!chart.querySelector('input[type=range]'), n: marks.length,
          shape: Array.from(marks).map(function (m) { return (m.getAttribute('d') || '') +
                 (m.getAttribute('transform') || ''); }).join('|')};
});
"""


READER_WIDTH = 1100
WIDE_WIDTH = 1300   # the right-hand table of contents appears and the column narrows

PAGE_JS = """
var column = document.querySelector('article.bd-article');
var style = getComputedStyle(column);
var width = column.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
function where(el) {
  var cell = el.closest('.cell'), heading = null, node = el;
  while (node && !heading) {
    var prev = node.previousElementSibling;
    while (prev && !/^H[1-4]$/.test(prev.tagName) && !prev.querySelector('h1,h2,h3,h4')) {
      prev = prev.previousElementSibling;
    }
    if (prev) { heading = prev; } else { node = node.parentElement; }
  }
  var text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 70);
  return (heading ? heading.textContent.trim().slice(0, 40) : '') + ' | ' + text;
}
var charts = Array.from(document.querySelectorAll('.neurotheory-chart')).map(function (chart) {
  var svg = chart.querySelector('svg.marks');
  var embed = chart.querySelector('.vega-embed');
  return {drawn: !!svg, error: !!chart.querySelector('.neurotheory-chart-error'),
          natural: svg ? parseFloat(svg.getAttribute('width')) : 0,
          shown: embed ? embed.getBoundingClientRect().width : 0,
          title: svg ? (svg.getAttribute('aria-label') || '').slice(0, 60) : '',
          where: where(chart)};
});
var pres = Array.from(document.querySelectorAll('article.bd-article pre')).filter(function (pre) {
  return pre.offsetParent !== null && pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1;
}).map(function (pre) {
  return {where: where(pre), over: pre.scrollWidth - pre.clientWidth,
          output: !!pre.closest('.cell_output')};
});
var outputs = Array.from(document.querySelectorAll('.cell_output')).map(function (out) {
  return out.innerText;
});
var searches = Array.from(document.querySelectorAll(
    '.search-button, .search-button-field, form.bd-search')).filter(function (el) {
  return el.offsetParent !== null && el.getBoundingClientRect().width > 0;
}).length;
return {column: width, charts: charts, pres: pres, outputs: outputs, searches: searches};
"""

BAD_OUTPUT = {
    "errno or resolver text": re.compile(
        r"Errno|errno|Name or service not known|name resolution|getaddrinfo|nodename nor servname"
        r"|urlopen error|Connection refused|Max retries"),
    "build-machine text": re.compile(r"was lent|chapter ran in|\bran in \d"),
    "raw Python repr": re.compile(
        r"\barray\(|\bnp\.(?:float|int|bool)\w*\(|object at 0x|dtype=|\{'[^']*': "
        r"|\[\s*-?\d+\.\d+(?:\s+-?\d+\.\d+)+\s*\]|\b[A-Z][A-Za-z]+\(\w+="),
    "16-digit float": re.compile(r"\d\.\d{9,}"),
}


def output_problems(text: str) -> list[str]:
    """What is wrong with one cell output's visible text, by kind (empty when it reads well)."""
    found = [f"{kind}: {match.group(0)!r}" for kind, pattern in BAD_OUTPUT.items()
             for match in [pattern.search(text)] if match]
    host = socket.gethostname()
    if len(host) > 3 and host in text:
        found.append(f"host name {host!r}")
    return found


def page_problems(browser, url: str) -> dict[str, list]:
    """Read one page as a reader at READER_WIDTH px would, and list what is wrong with it.

    A chart must fit the text column as drawn (its SVG's own width, before the style sheet's
    scaling for phones) at READER_WIDTH and at WIDE_WIDTH.
    """
    browser.set_window_size(READER_WIDTH, 1400)
    browser.get(url)
    browser.get_log("browser")
    browser.refresh()
    wait_for(lambda: all(c["drawn"] or c["error"] for c in browser.execute_script(PAGE_JS)["charts"]))
    time.sleep(0.5)
    page = browser.execute_script(PAGE_JS)
    browser.set_window_size(WIDE_WIDTH, 1400)
    column = min(page["column"], browser.execute_script(PAGE_JS)["column"])
    wide = [f"{c['natural']:.0f} px > {column:.0f} px: {c['where']}" for c in page["charts"]
            if c["natural"] > column + 1 or c["shown"] > column + 1]
    undrawn = [c["where"] for c in page["charts"] if not c["drawn"]]
    overflowing = [f"{p['over']} px too wide: {p['where']}" for p in page["pres"]]
    outputs = [f"{problem} in {text.strip()[:80]!r}" for text in page["outputs"]
               for problem in output_problems(text)]
    console = [f"{e['level']}: {e['message'][:160]}" for e in browser.get_log("browser")
               if e["level"] in ("SEVERE", "WARNING")]
    return {"charts wider than the column": wide, "charts not drawn": undrawn,
            "overflowing code blocks": overflowing, "bad outputs": outputs,
            "console errors and warnings": console,
            "search boxes beyond one": ["search"] * max(0, page["searches"] - 1)}


def test_output_problems_are_recognised():
    """The output check flags what a reader should never see, and passes what they should."""
    assert output_problems("offline: synthetic stand-in for CIFAR-10, see Data") == []
    assert output_problems("largest gap 3.2% (width 256)") == []
    for text in ("CIFAR-10 unavailable ([Errno -3] Temporary failure in name resolution)",
                 "{'width': 256, 'depth': 30}", "[0.912 0.043 0.021]", "4.440892098250626e-16",
                 "array([1, 2])", "np.float64(0.5)", "LineAttractorTest(holds=True, count=3)",
                 "chapter ran in 80 s at scale=quick", "no GPU was lent to this build"):
        assert output_problems(text), text


def test_vendored_vega_matches_altair():
    """The scripts the site serves are the versions Altair emits (book/_static/vega/versions.json)."""
    folder = ROOT / "book" / "_static" / "vega"
    versions = json.loads((folder / "versions.json").read_text())
    assert versions["vega-lite"] == alt.VEGALITE_VERSION
    assert versions["vega"].split(".")[0] == alt.VEGA_VERSION.split(".")[0]
    assert versions["vega-embed"].split(".")[0] == alt.VEGAEMBED_VERSION.split(".")[0]
    assert f'.version="{versions["vega"]}"' in (folder / "vega.min.js").read_text(), (
        "vega.min.js reports another version than versions.json (vega-embed warns in the console)")
    assert f'"{versions["vega-lite"]}"' in (folder / "vega-lite.min.js").read_text()
    assert f'"{versions["vega-embed"]}"' in (folder / "vega-embed.min.js").read_text()
    for name in versions:
        assert (folder / f"LICENSE-{name}").is_file()
    assert set(config()["sphinx"]["config"]["html_js_files"]) == {f"vega/{n}.min.js" for n in versions}


def test_every_chapter_page_is_built(site):
    for path in notebooks():
        assert (site / path).with_suffix(".html").is_file(), f"{path} has no page"
        assert (site / "_sources" / path).is_file(), f"{path} cannot be downloaded as a notebook"


def test_launch_buttons_use_the_configured_repository(site):
    page = (site / "book" / "start-here" / "tour.html").read_text()
    github = config()["repository"]["url"].removeprefix("https://github.com/")
    assert f"https://colab.research.google.com/github/{github}/blob/main/book/start-here/tour.ipynb" in page


def test_chapters_link_their_student_versions(site):
    # Each chapter page links its student notebook, which the build wrote: solutions gone,
    # each coding exercise's gap open.
    for path in notebooks():
        page = (site / path).with_suffix(".html").read_text()
        link = re.search(r'<p class="student-version">.*?<a href="([^"]+)" download>.*?'
                         r'<a href="(https://colab[^"]+)">', page, re.DOTALL)
        assert link, f"{path}: no student-version links"
        student = (site / path).parent / link.group(1)
        assert student.resolve() == (site / "student" / path).resolve() and student.is_file(), link.group(1)
        assert link.group(2).endswith(f"/student/{path}")
        text = student.read_text()
        assert "BEGIN SOLUTION" not in text and "<summary>Solution" not in text, path
        gaps = "BEGIN SOLUTION" in (ROOT / path).read_text()
        assert ("raise NotImplementedError" in text) == gaps, path
        assert ("NotImplementedError" in json.loads(text)["cells"][1]["source"]) == gaps, f"{path}: banner"


SOLUTIONS_JS = """
return Array.from(document.querySelectorAll('article.bd-article details')).filter(function (d) {
  var summary = d.querySelector('summary');
  return summary && /^\\s*Solution/.test(summary.textContent);
}).map(function (d) {
  var body = Array.from(d.children).filter(function (c) { return c.tagName !== 'SUMMARY'; });
  // A closed <details> keeps its body laid out (content-visibility: hidden), so ask visibility.
  return {open: d.open, shown: body.some(function (c) { return c.checkVisibility(); })};
});
"""
OPEN_FIRST_SOLUTION_JS = """
Array.from(document.querySelectorAll('article.bd-article details summary')).find(function (s) {
  return /^\\s*Solution/.test(s.textContent);
}).click();
"""


def test_solutions_are_hidden_until_clicked(browser, server):
    # Every written solution of the chapter is on the page, folded; a click opens it.
    chapter = "book/recurrent-dynamics/sentiment-line-attractors"
    written = len(re.findall(r"<details>\s*<summary>\s*Solution", (ROOT / f"{chapter}.ipynb").read_text()))
    browser.set_window_size(READER_WIDTH, 1400)
    browser.get(f"{server}/{chapter}.html")
    blocks = wait_for(lambda: browser.execute_script(SOLUTIONS_JS))
    assert written >= 4 and len(blocks) == written, f"{len(blocks)} solution blocks on the page, {written} written"
    assert not any(b["open"] or b["shown"] for b in blocks), "a solution shows before it is clicked"
    browser.execute_script(OPEN_FIRST_SOLUTION_JS)
    first = wait_for(lambda: (lambda b: b if b[0]["shown"] else None)(browser.execute_script(SOLUTIONS_JS)))
    assert first and first[0]["open"] and first[0]["shown"], "clicking the summary did not show the solution"
    assert browser.find_elements("css selector", "p.student-version a[download]")


def test_tour_is_interactive_offline(browser, server):
    browser.get(f"{server}/book/start-here/tour.html")
    charts = wait_for(lambda: (lambda c: c if c and all(x["n"] > 0 for x in c) else None)(
        browser.execute_script(MARKS_JS)))
    assert charts, f"charts did not draw: {browser.execute_script(MARKS_JS)}"
    sliders = [i for i, c in enumerate(charts) if c["slider"]]
    assert sliders, "the Tour has no slider-bound chart"
    index = sliders[0]
    before = charts[index]["shape"]
    browser.execute_script("""
        var input = document.querySelectorAll('.neurotheory-chart')[arguments[0]].querySelector('input[type=range]');
        input.value = input.max;
        input.dispatchEvent(new Event('input', {bubbles: true}));
        input.dispatchEvent(new Event('change', {bubbles: true}));
    """, index)
    after = wait_for(lambda: (lambda s: s if s != before else None)(
        browser.execute_script(MARKS_JS)[index]["shape"]), timeout=10)
    assert after and after != before, "moving the slider did not change the chart's marks"
    assert browser.execute_script(MARKS_JS)[index]["n"] > 0

    assert wait_for(lambda: browser.find_elements("css selector", "mjx-container")), "MathJax typeset nothing"

    outside = [u for u in requested_urls(browser)
               if urlparse(u).scheme in ("http", "https") and urlparse(u).hostname != "127.0.0.1"]
    assert not outside, f"the page requested outside hosts: {outside[:5]}"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors[:5]}"
    assert not browser.find_elements("css selector", ".neurotheory-chart-error")


@pytest.mark.parametrize("path", notebooks())
def test_chapter_page_reads_well(browser, server, path):
    """At 1100 px: charts fit the column, code fits, outputs read well, the console is quiet."""
    problems = page_problems(browser, f"{server}/{Path(path).with_suffix('.html').as_posix()}")
    found = {kind: items for kind, items in problems.items() if items}
    assert not found, f"{path}:\n" + "\n".join(f"{kind} ({len(items)}): {items[:6]}"
                                                for kind, items in found.items())


DARK_JS = """
var text = document.querySelector('.neurotheory-chart svg text');
var panel = document.querySelector('.cell_output .text_html:has(.neurotheory-chart)');
return {text: getComputedStyle(text).fill, panel: getComputedStyle(panel).backgroundColor,
        page: getComputedStyle(document.body).backgroundColor};
"""


def luminance(css_colour: str) -> float:
    """Relative brightness 0 (black) … 1 (white) of an ``rgb(…)``/``rgba(…)`` colour."""
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_charts_read_in_dark_mode(browser, server):
    """In dark mode chart text turns light and no light panel is drawn behind the chart."""
    browser.get(f"{server}/book/start-here/tour.html")
    browser.execute_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    try:
        browser.refresh()
        wait_for(lambda: browser.execute_script(
            "return !!document.querySelector('.neurotheory-chart svg text')"))
        colours = browser.execute_script(DARK_JS)
    finally:
        browser.execute_script("localStorage.setItem('mode', 'light'); localStorage.setItem('theme', 'light');")
    assert luminance(colours["page"]) < 0.2, colours
    assert luminance(colours["text"]) > 0.6, f"chart text is dark on a dark page: {colours}"
    assert colours["panel"] in ("rgba(0, 0, 0, 0)", "transparent"), f"a panel sits behind the chart: {colours}"
