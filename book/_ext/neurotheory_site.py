"""Sphinx tweaks for the book's site.

- sphinx-thebe (pulled in by Jupyter Book 1.x) registers its inline configuration script twice
  under Sphinx 7, so every page declared ``const THEBE_JS_URL`` twice and logged a SyntaxError.
  Drop repeated inline scripts from each page.
- Student versions: the build writes every chapter's student notebook
  (``tools/student_versions.py``) under ``student/`` in the site, and each chapter page links
  its own, as a download and in Colab (from the site's branch, ``SITE_BRANCH``, once the
  repository is public).
"""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path

from docutils import nodes

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import student_versions  # noqa: E402 (needs tools/ on the path)
from chapters import notebooks  # noqa: E402

STUDENT = "student"
SITE_BRANCH = "gh-pages"   # the branch the published site (and so the student notebooks) lives on


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique  # in place: later handlers (MathJax) append to this list


def _student_links(app, doctree, docname):
    """Under a chapter's title: its student notebook, to download and to open in Colab."""
    if f"{docname}.ipynb" not in notebooks():
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    path = f"{STUDENT}/{docname}.ipynb"
    local = posixpath.relpath(path, posixpath.dirname(docname) or ".")
    repository = app.config.html_theme_options.get("repository_url", "").rstrip("/")
    colab = repository.replace("https://github.com/", "https://colab.research.google.com/github/", 1)
    html = (f'<p class="student-version">Teaching with this chapter? '
            f'<a href="{local}" download>Download the student version</a> '
            f'(solutions removed, coding exercises left as gaps that check themselves) or '
            f'<a href="{colab}/blob/{SITE_BRANCH}/{path}">open it in Colab</a>.</p>')
    title = sections[0].next_node(nodes.title)
    sections[0].insert(sections[0].index(title) + 1, nodes.raw("", html, format="html"))


def _write_student_versions(app, exception):
    if exception is None and app.builder.format == "html":
        student_versions.generate(Path(app.outdir) / STUDENT)


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=100)
    app.connect("doctree-resolved", _student_links)
    app.connect("build-finished", _write_student_versions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
