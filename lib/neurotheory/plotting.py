"""Altair charts for the book: one theme, one renderer, and the chart shapes chapters share.

Importing this module enables the ``neurotheory`` theme and renderer and lifts Altair's
row limit. The renderer draws with ``window.vegaEmbed`` when the page already has it (the
built site serves Vega, Vega-Lite and Vega-Embed from ``_static/vega``, no CDN); in a live
Jupyter or Colab session it loads the versions this Altair emits, once per page.

Every helper takes ``title`` and ``caption``: the caption is the one line under the title
that tells the reader what to see.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Mapping, Sequence

import altair as alt
import numpy as np

THEME = "neurotheory"
CDN = "https://cdn.jsdelivr.net/npm"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
EMBED_OPTIONS = {"renderer": "svg",
                 "actions": {"export": True, "source": False, "compiled": False, "editor": False}}


@alt.theme.register(THEME, enable=True)
def _theme() -> alt.theme.ThemeConfig:
    """Readable defaults: larger type, light grid, a fixed colour cycle."""
    return {
        "config": {
            "view": {"continuousWidth": 380, "continuousHeight": 260, "stroke": None},
            "font": "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif",
            "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 12,
                      "subtitleColor": "#555", "offset": 10},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6",
                     "titleFontWeight": "normal"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12},
            "range": {"category": PALETTE},
            "point": {"size": 36},
            "line": {"strokeWidth": 2.2},
        }
    }


def vega_versions() -> dict[str, str]:
    """The Vega, Vega-Lite and Vega-Embed versions the installed Altair emits."""
    return {"vega": alt.VEGA_VERSION, "vega-lite": alt.VEGALITE_VERSION,
            "vega-embed": alt.VEGAEMBED_VERSION}


_RENDER_JS = """
(function (spec, embedOptions, urls, id) {
  var el = document.getElementById(id);
  function show(err) {
    el.innerHTML = '<pre class="neurotheory-chart-error">chart failed: ' + String(err) + '</pre>';
  }
  function draw() { window.vegaEmbed(el, spec, embedOptions).catch(show); }
  if (window.vegaEmbed) { draw(); return; }
  function load(url) {
    return new Promise(function (resolve, reject) {
      var amd = window.define;
      window.define = undefined;
      var s = document.createElement("script");
      s.src = url;
      s.onload = function () { window.define = amd; resolve(); };
      s.onerror = function () { window.define = amd; reject(new Error("could not load " + url)); };
      document.head.appendChild(s);
    });
  }
  window.__neurotheoryVega = window.__neurotheoryVega || urls.reduce(function (done, url) {
    return done.then(function () { return load(url); });
  }, Promise.resolve());
  window.__neurotheoryVega.then(draw).catch(show);
})(%(spec)s, %(embed)s, %(urls)s, "%(id)s");
"""


def _render(spec: dict, **_metadata) -> dict[str, str]:
    """Altair renderer: a div and a script that draws ``spec`` into it (see module docstring)."""
    versions = vega_versions()
    urls = [f"{CDN}/{name}@{versions[name]}" for name in ("vega", "vega-lite", "vega-embed")]
    chart_id = f"nt-{uuid.uuid4().hex[:12]}"
    script = _RENDER_JS % {"spec": json.dumps(spec), "embed": json.dumps(EMBED_OPTIONS),
                           "urls": json.dumps(urls), "id": chart_id}
    html = f'<div id="{chart_id}" class="neurotheory-chart"></div>\n<script>{script}</script>'
    return {"text/html": html, "text/plain": "<Altair chart: run the cell to draw it>"}


alt.renderers.register(THEME, _render)
alt.renderers.enable(THEME)
alt.data_transformers.disable_max_rows()


def table(**columns: Any) -> list[dict[str, Any]]:
    """Rows for Altair from equal-length columns; numbers become floats, NaNs are refused.

    ``table(depth=d, q=q)`` gives ``[{"depth": d[0], "q": q[0]}, ...]``. A scalar column is
    repeated on every row.
    """
    if not columns:
        raise ValueError("table needs at least one column")
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    lengths = {name: a.shape[0] for name, a in arrays.items() if a.ndim > 0}
    if any(a.ndim > 1 for a in arrays.values()):
        bad = [name for name, a in arrays.items() if a.ndim > 1]
        raise ValueError(f"table columns must be one-dimensional; {bad} are not")
    if len(set(lengths.values())) > 1:
        raise ValueError(f"table columns differ in length: {lengths}")
    n = next(iter(lengths.values())) if lengths else 1
    for name, a in arrays.items():
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            raise ValueError(f"column {name!r} has NaN or infinite values")
    cols = {name: (np.broadcast_to(a, (n,)) if a.ndim == 0 else a) for name, a in arrays.items()}
    py = {name: [_plain(v) for v in a] for name, a in cols.items()}
    return [{name: py[name][i] for name in py} for i in range(n)]


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.str_):
        return str(value)
    return value


def _data(rows: Any, name: str) -> alt.Data | Any:
    if isinstance(rows, Mapping):
        rows = table(**rows)
    if isinstance(rows, list):
        if not rows:
            raise ValueError(f"{name} is empty")
        return alt.Data(values=rows)
    return rows


def _titled(chart: alt.TopLevelMixin, title: str, caption: str) -> alt.TopLevelMixin:
    if not title or not caption:
        raise ValueError("every chart needs a title and a one-line caption saying what to see")
    return chart.properties(title=alt.Title(title, subtitle=caption))


def _axis_scale(log: bool) -> alt.Scale:
    return alt.Scale(type="log") if log else alt.Scale(zero=False)


def theory_over_simulation(
    theory: Any,
    simulation: Any,
    *,
    x: str,
    y: str,
    x_title: str,
    y_title: str,
    title: str,
    caption: str,
    series: str | None = None,
    series_title: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    width: int | None = None,
    height: int | None = None,
) -> alt.LayerChart:
    """Theory as lines, simulation as points, sharing axes and (optionally) a colour series.

    ``theory`` and ``simulation`` are tables (dicts of columns, :func:`table` rows or data
    frames) with columns ``x``, ``y`` and, if given, ``series``.
    """
    x_enc = alt.X(f"{x}:Q", title=x_title, scale=_axis_scale(log_x))
    y_enc = alt.Y(f"{y}:Q", title=y_title, scale=_axis_scale(log_y))
    color = [alt.Color(f"{series}:N", title=series_title or series)] if series else []
    tooltip = [f"{x}:Q", f"{y}:Q"] + ([f"{series}:N"] if series else [])
    line = alt.Chart(_data(theory, "theory")).mark_line().encode(x_enc, y_enc, *color)
    points = (alt.Chart(_data(simulation, "simulation"))
              .mark_point(filled=True, opacity=0.75)
              .encode(x_enc, y_enc, *color, tooltip=tooltip))
    chart = alt.layer(line, points)
    if width or height:
        chart = chart.properties(**{k: v for k, v in (("width", width), ("height", height)) if v})
    return _titled(chart, title, caption)


def heatmap(
    data: Any,
    *,
    x: str,
    y: str,
    value: str,
    x_title: str,
    y_title: str,
    value_title: str,
    title: str,
    caption: str,
    scheme: str = "viridis",
    diverging: bool = False,
    ordinal: bool = False,
) -> alt.Chart:
    """A value over a grid: rect marks coloured by ``value``.

    ``ordinal=True`` keeps x and y in the order given (items, units); otherwise grid values
    are sorted, y increasing upwards. ``diverging=True`` centres the colour scale at zero.
    """
    order = dict(sort=None) if ordinal else {}
    scale = alt.Scale(scheme="redblue", domainMid=0, reverse=True) if diverging else alt.Scale(scheme=scheme)
    rect = alt.Chart(_data(data, "data")).mark_rect().encode(
        alt.X(f"{x}:O", title=x_title, **order),
        alt.Y(f"{y}:O", title=y_title, **(order or dict(sort="descending"))),
        alt.Color(f"{value}:Q", title=value_title, scale=scale),
        tooltip=[f"{x}:O", f"{y}:O", f"{value}:Q"],
    )
    return _titled(rect, title, caption)


def histogram_density(samples: np.ndarray, bins: int | Sequence[float]) -> list[dict[str, float]]:
    """Histogram rows ``{lo, hi, density}`` normalised so the bars integrate to 1."""
    samples = np.asarray(samples, dtype=float).ravel()
    if samples.size == 0:
        raise ValueError("samples is empty")
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples has NaN or infinite values")
    density, edges = np.histogram(samples, bins=bins, density=True)
    return table(lo=edges[:-1], hi=edges[1:], density=density)


def spectrum(
    eigenvalues: np.ndarray,
    x: np.ndarray,
    density: np.ndarray,
    *,
    x_title: str,
    title: str,
    caption: str,
    bins: int | Sequence[float] = 60,
    y_title: str = "density",
) -> alt.LayerChart:
    """Histogram of sampled eigenvalues (bars) under a theoretical density (line)."""
    x = np.asarray(x, dtype=float)
    density = np.asarray(density, dtype=float)
    if x.shape != density.shape or x.ndim != 1:
        raise ValueError(f"x and density must be 1-D of equal length, got {x.shape} and {density.shape}")
    bars = alt.Chart(alt.Data(values=histogram_density(eigenvalues, bins))).mark_rect(
        color="#9ecae1", opacity=0.8).encode(
        alt.X("lo:Q", title=x_title), alt.X2("hi:Q"), alt.Y("density:Q", title=y_title))
    curve = alt.Chart(alt.Data(values=table(x=x, density=density))).mark_line(color="#d62728").encode(
        alt.X("x:Q"), alt.Y("density:Q"))
    return _titled(alt.layer(bars, curve), title, caption)


def slider(
    chart: alt.Chart | alt.LayerChart,
    *,
    field: str,
    values: Sequence[float],
    name: str | None = None,
    label: str | None = None,
) -> alt.Chart | alt.LayerChart:
    """Make a chart of a whole parameter grid show one grid value at a time, chosen by a slider.

    ``chart`` holds rows for every value of ``field`` in ``values`` (small multiples stacked
    in one table); the slider is an ``alt.param`` bound to a range input, and each layer is
    filtered to the rows whose ``field`` is nearest the slider. ``values`` must be evenly
    spaced (depths, seeds, a linear grid of σ_w). The result works on the static site.
    """
    grid = np.asarray(sorted(set(float(v) for v in values)))
    if grid.size == 0:
        raise ValueError("values is empty")
    step = float(np.min(np.diff(grid))) if grid.size > 1 else 1.0
    if grid.size > 1 and not np.allclose(np.diff(grid), step, rtol=1e-6, atol=1e-12):
        raise ValueError("values must be evenly spaced for a slider; use an integer index column")
    name = name or f"{_identifier(field)}_slider"
    param = alt.param(name=name, value=_plain(grid[0]),
                      bind=alt.binding_range(min=_plain(grid[0]), max=_plain(grid[-1]), step=step,
                                             name=f"{label or field} "))
    keep = f"abs(datum[{json.dumps(field)}] - {name}) < {step / 2}"
    if isinstance(chart, alt.LayerChart):
        layers = [layer.transform_filter(keep) for layer in chart.layer]
        props = {k: getattr(chart, k) for k in ("data", "title", "width", "height")
                 if getattr(chart, k, alt.Undefined) is not alt.Undefined}
        return alt.layer(*layers).properties(**props).add_params(param)
    return chart.transform_filter(keep).add_params(param)


def _identifier(text: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in text)
    return out if out and not out[0].isdigit() else f"p_{out}"
