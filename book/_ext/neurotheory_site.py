"""Sphinx tweaks for the book's site.

sphinx-thebe (pulled in by Jupyter Book 1.x) registers its inline configuration script twice
under Sphinx 7, so every page declared ``const THEBE_JS_URL`` twice and logged a SyntaxError.
Drop repeated inline scripts from each page.
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique  # in place: later handlers (MathJax) append to this list


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
