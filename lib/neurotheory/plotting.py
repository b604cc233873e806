"""Altair charts for the book: one theme, one renderer, and the chart shapes chapters share.

Importing this module enables the ``neurotheory`` theme and renderer and lifts Altair's
row limit. The renderer draws with ``window.vegaEmbed`` when the page already has it (the
built site serves Vega, Vega-Lite and Vega-Embed from ``_static/vega``, no CDN); in a live
Jupyter or Colab session it loads the versions this Altair emits, once per page. It also
wraps every chart title and caption to the width of the view it heads, so a long caption
never widens a chart.

Every helper takes ``title`` and ``caption``: the caption is the one line under the title
that tells the reader what to see.

Conventions a chapter follows (``tests/test_site.py`` and ``tests/test_notebooks.py`` check
the results on every page of ``_toc.yml``):

- **Width.** A whole chart, axes and legend included, fits :data:`COLUMN_WIDTH` pixels, the
  text column of the site at 1100 px. Size panels with :func:`panel_width`:
  ``.properties(width=plotting.panel_width(2, legend=True))`` for two panels side by side
  sharing a legend. More than two or three panels wrap (``alt.concat(..., columns=2)``,
  ``facet(..., columns=2)``) or stack (``alt.vconcat``).
- **Colour.** A recurring entity has one colour in the whole book, :data:`COLORS`: the
  algorithms ``MU``, ``HALS``, ``ANLS``; the recurrent cells ``vanilla``, ``gru``,
  ``lstm``, ``ugrnn``; the nonlinearities ``linear``, ``tanh``, ``relu``, ``hard_tanh``,
  ``erf``, ``sigmoid``. Encode them with :func:`colors` (names match case-insensitively).
  Weight laws (``orthogonal``, ``gaussian``) are line dashes, :func:`dashes`, so that they
  combine with a nonlinearity's colour. Reference marks (diagonals, targets, planted
  values) use :data:`INK`, which stays visible in dark mode.
- **Sliders.** :func:`slider` keeps the axes fixed across its steps (the change is the
  message) and shows names, not indices, for a categorical grid (``labels=``).
- **Outputs.** Small tables are :func:`html_table`, the sizes cell ends with
  :func:`sizes`; no printed dicts, arrays or 16-digit floats.
- **Code.** Lines of at most 88 characters; a cell of helper or plotting code carries the
  ``hide-input`` tag (folded on the site), the cells that compute the equations stay open.
"""

from __future__ import annotations

import html
import json
import textwrap
import uuid
from typing import Any, Iterable, Mapping, Sequence

import altair as alt
import numpy as np

THEME = "neurotheory"
CDN = "https://cdn.jsdelivr.net/npm"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
EMBED_OPTIONS = {"renderer": "svg",
                 "actions": {"export": True, "source": False, "compiled": False, "editor": False}}

COLUMN_WIDTH = 620
"""Pixels a whole chart may take: it then fits the text column at 1100 and 1300 px windows."""
AXIS_ALLOWANCE = 70
"""Pixels beside a panel for its y-axis labels and title, and the gap to the next panel."""
LEGEND_ALLOWANCE = 150
"""Pixels for a legend on the right of a chart, for labels up to :data:`SHORT_LABEL` characters."""
SHORT_LABEL = 16
"""Longer series labels go in a legend under the chart (:func:`legend_for`), never truncated."""
INK = "#7f7f7f"
"""Colour of reference marks (diagonals, targets, planted values): visible on light and dark."""

COLORS = {
    # algorithms for (convolutive) NMF
    "mu": "#7f7f7f", "hals": "#ff7f0e", "anls": "#1f77b4",
    # recurrent cells
    "vanilla": "#8c564b", "gru": "#17becf", "lstm": "#bcbd22", "ugrnn": "#e377c2",
    "feedforward": "#7f7f7f", "time_decay": "#9467bd", "reciprocal_gated": "#d62728",
    # pointwise nonlinearities
    "linear": "#7f7f7f", "tanh": "#1f77b4", "relu": "#d62728", "hard_tanh": "#9467bd",
    "erf": "#2ca02c", "sigmoid": "#ff7f0e", "selu": "#843c39", "swish": "#7b4173", "sin": "#637939",
    "shifted_relu": "#fd8d3c", "custom": "#17becf",
}
"""One colour per recurring entity, the same in every chapter (keys are lower case)."""
DASHES = {"orthogonal": [1, 0], "gaussian": [6, 3]}
"""Line dash per weight law: solid for orthogonal, dashed for Gaussian weights."""
SHAPES = {"orthogonal": "circle", "gaussian": "square"}
"""Point shape per weight law, for simulation points beside dashed theory lines."""
SHAPE_NAMES = {"circle": "●", "square": "■"}


@alt.theme.register(THEME, enable=True)
def _theme() -> alt.theme.ThemeConfig:
    """Readable defaults: larger type, light grid, a fixed colour cycle, transparent background."""
    return {
        "config": {
            "background": "transparent",
            "view": {"continuousWidth": panel_width(1, legend=True), "continuousHeight": 260,
                     "stroke": None},
            "font": "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif",
            "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 12,
                      "subtitleColor": "#666", "offset": 10},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6",
                     "titleFontWeight": "normal", "labelLimit": 260},
            "axisBand": {"labelOverlap": "greedy"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 0,
                       "titleLimit": 0},
            "header": {"labelFontSize": 12, "titleFontSize": 13},
            "range": {"category": PALETTE},
            "point": {"size": 36},
            "line": {"strokeWidth": 2.2},
        }
    }


def panel_width(columns: int = 1, *, legend: bool = False) -> int:
    """Plot-area width of one panel, so ``columns`` panels side by side fit the text column.

    Each panel keeps :data:`AXIS_ALLOWANCE` for its axis; ``legend=True`` keeps room for one
    legend on the right of the row. Use it for ``width`` (and for facet cells).
    """
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    room = COLUMN_WIDTH - (LEGEND_ALLOWANCE if legend else 0) - columns * AXIS_ALLOWANCE
    width = room // int(columns)
    if width < 80:
        raise ValueError(f"{columns} panels do not fit the column; wrap them (columns=2) or stack them")
    return int(width)


def color(name: str) -> str:
    """The book's colour for a recurring entity (``"HALS"``, ``"gru"``, ``"tanh"``, ...)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    try:
        return COLORS[name.lower()]
    except KeyError:
        raise ValueError(f"name={name!r} has no colour; known: {', '.join(COLORS)}") from None


def legend_for(labels: Iterable[Any]) -> alt.Legend:
    """A legend that fits: on the right for short labels, under the chart (one per line) else."""
    longest = max((len(str(label)) for label in labels), default=0)
    if longest <= SHORT_LABEL:
        return alt.Legend()
    return alt.Legend(orient="bottom", direction="vertical")


def colors(field: str, names: Iterable[str], *, title: str | None = None,
           legend: bool = True) -> alt.Color:
    """Colour encoding of ``field`` whose values are ``names``, in the book's colours.

    The legend lists ``names`` in the order given. Colours repeat across families (an
    algorithm and a nonlinearity may share one) but never within a chart of one family.
    """
    names = _names("names", names)
    scale = alt.Scale(domain=names, range=[color(n) for n in names])
    return alt.Color(f"{field}:N", title=title if title is not None else field, scale=scale,
                     sort=names, legend=legend_for(names) if legend else None)


def dashes(field: str, names: Iterable[str] | None = None, *,
           title: str | None = None) -> alt.StrokeDash:
    """Stroke-dash encoding of a weight-law field: solid orthogonal, dashed Gaussian."""
    names = _names("names", names if names is not None else DASHES)
    unknown = [n for n in names if n.lower() not in DASHES]
    if unknown:
        raise ValueError(f"names {unknown} have no dash; known: {', '.join(DASHES)}")
    scale = alt.Scale(domain=names, range=[DASHES[n.lower()] for n in names])
    return alt.StrokeDash(f"{field}:N", title=title if title is not None else field, scale=scale,
                          sort=names)


def _names(argument: str, names: Iterable[str]) -> list[str]:
    names = list(names)
    if not names:
        raise ValueError(f"{argument} is empty")
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{argument} must be strings, got {names!r}")
    return names


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


_VIEW_KEYS = ("mark", "layer", "hconcat", "vconcat", "concat", "facet", "repeat")
_CHAR_WIDTH = 0.56   # average glyph width of the theme's sans-serif font, in ems


def _wrapped(text: Any, width: float, font_size: float) -> Any:
    """``text`` (a string or list of lines) broken into lines that fit ``width`` pixels."""
    chars = max(20, int(width / (_CHAR_WIDTH * font_size)))
    lines = [text] if isinstance(text, str) else list(text)
    out = [piece for line in lines for piece in (textwrap.wrap(line, chars) or [line])]
    return out[0] if len(out) == 1 else out


def wrap_titles(spec: Any, width: float = COLUMN_WIDTH) -> Any:
    """A copy of a Vega-Lite ``spec`` whose chart titles and subtitles are wrapped into lines.

    Each title is wrapped to the width of the view it heads (its ``width`` when that is a
    number, else :data:`COLUMN_WIDTH`), so a long caption adds lines instead of width.
    Axis, legend and header titles are left alone.
    """
    return _wrap_titles(spec, width, top=True)


def _wrap_titles(spec: Any, width: float, top: bool) -> Any:
    if isinstance(spec, list):
        return [_wrap_titles(item, width, top=False) for item in spec]
    if not isinstance(spec, dict):
        return spec
    own = spec.get("width")
    faceted = "facet" in spec or any(k in spec.get("encoding", {}) for k in ("row", "column", "facet"))
    if isinstance(own, (int, float)) and not isinstance(own, bool) and not faceted:
        # a chart on its own may title wider than its plot (axes and legend sit beside it)
        view_width = max(float(own), panel_width(1, legend=True)) if top else float(own)
    else:
        view_width = width
    out = {key: value if key in ("data", "datasets") else
           _wrap_titles(value, view_width if key in ("layer", "spec") else width, top=False)
           for key, value in spec.items() if key != "title"}
    if "title" in spec:
        title = spec["title"]
        if any(key in spec for key in _VIEW_KEYS):
            if isinstance(title, (str, list)):
                title = _wrapped(title, view_width, 15)
            elif isinstance(title, dict):
                title = dict(title)
                if "text" in title:
                    title["text"] = _wrapped(title["text"], view_width, 15)
                if "subtitle" in title:
                    title["subtitle"] = _wrapped(title["subtitle"], view_width, 12)
        out["title"] = title
    return out


def _render(spec: dict, **_metadata) -> dict[str, str]:
    """Altair renderer: a div and a script that draws ``spec`` into it (see module docstring)."""
    spec = wrap_titles(spec)
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
    dash: str | None = None,
    dash_title: str | None = None,
    log_x: bool = False,
    log_y: bool = False,
    width: int | None = None,
    height: int | None = None,
) -> alt.LayerChart:
    """Theory as lines, simulation as points, sharing axes and (optionally) a colour series.

    ``theory`` and ``simulation`` are tables (dicts of columns, :func:`table` rows or data
    frames) with columns ``x``, ``y`` and, if given, ``series`` and ``dash``. A series whose
    values are all named in :data:`COLORS` gets the book's colours; ``dash`` names a
    weight-law column drawn as line dashes (and point shapes).
    """
    theory, simulation = _data(theory, "theory"), _data(simulation, "simulation")
    x_enc = alt.X(f"{x}:Q", title=x_title, scale=_axis_scale(log_x))
    y_enc = alt.Y(f"{y}:Q", title=y_title, scale=_axis_scale(log_y))
    color = [_series_color(series, series_title, theory, simulation)] if series else []
    tooltip = [f"{x}:Q", f"{y}:Q"] + [f"{f}:N" for f in (series, dash) if f]
    line_dash, point_shape = [], []
    if dash:
        laws = _distinct(dash, theory, simulation)
        marks = ", ".join(f"{SHAPE_NAMES[SHAPES[law.lower()]]} {law}" for law in laws
                          if isinstance(law, str) and law.lower() in SHAPES)
        line_dash = [dashes(dash, laws, title=f"{dash_title or dash} (points: {marks})")]
        point_shape = [alt.Shape(f"{dash}:N", legend=None, scale=alt.Scale(
            domain=laws, range=[SHAPES[law.lower()] for law in laws]))]
    line = alt.Chart(theory).mark_line().encode(x_enc, y_enc, *color, *line_dash)
    points = (alt.Chart(simulation)
              .mark_point(filled=True, opacity=0.75)
              .encode(x_enc, y_enc, *color, *point_shape, tooltip=tooltip))
    chart = alt.layer(line, points)
    if width or height:
        chart = chart.properties(**{k: v for k, v in (("width", width), ("height", height)) if v})
    return _titled(chart, title, caption)


def _distinct(field: str, *tables: Any) -> list[Any]:
    """Distinct values of ``field`` over inline tables, in order of first appearance."""
    seen: dict[Any, None] = {}
    for data in tables:
        values = data.values if isinstance(data, alt.Data) else None
        for row in values if isinstance(values, list) else []:
            if isinstance(row, Mapping) and field in row:
                seen.setdefault(row[field])
    return list(seen)


def _series_color(field: str, title: str | None, *tables: Any) -> alt.Color:
    names = _distinct(field, *tables)
    if names and all(isinstance(n, str) and n.lower() in COLORS for n in names):
        return colors(field, names, title=title)
    return alt.Color(f"{field}:N", title=title or field, legend=legend_for(names))


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
    width: int | None = None,
    height: int | None = None,
) -> alt.Chart:
    """A value over a grid: rect marks coloured by ``value``.

    ``ordinal=True`` keeps x and y in the order given (items, units); otherwise grid values
    are sorted, y increasing upwards. ``diverging=True`` centres the colour scale at zero.
    Cells are 22 px squares up to the column's width (``width``) and 360 px of height
    (``height``); a finer grid shrinks its cells to fit.
    """
    order = dict(sort=None) if ordinal else {}
    scale = alt.Scale(scheme="redblue", domainMid=0, reverse=True) if diverging else alt.Scale(scheme=scheme)
    data = _data(data, "data")
    n_x, n_y = len(_distinct(x, data)) or 1, len(_distinct(y, data)) or 1
    size = {"width": width or min(22 * n_x, panel_width(1, legend=True)),
            "height": height or min(22 * n_y, 360)}
    rect = alt.Chart(data).mark_rect().encode(
        alt.X(f"{x}:O", title=x_title, **order),
        alt.Y(f"{y}:O", title=y_title, **(order or dict(sort="descending"))),
        alt.Color(f"{value}:Q", title=value_title, scale=scale),
        tooltip=[f"{x}:O", f"{y}:O", f"{value}:Q"],
    ).properties(**size)
    return _titled(rect, title, caption)


def gallery(
    images: Any,
    *,
    labels: Sequence[str],
    title: str,
    caption: str,
    columns: int = 8,
    pixel: int | None = None,
    group: Sequence[str] | None = None,
) -> alt.Chart:
    """Small multiples of 2-D filters (n, H, W), each scaled to its own largest |value|.

    A diverging colour scale centred at zero (red positive, blue negative), one panel per
    filter titled by ``labels``, ``columns`` panels per row. ``pixel`` is the side of one
    image pixel in screen pixels (default: the largest up to 4 that fits ``columns`` panels
    in the column). Fewer than ``columns`` panels go in a row when their titles would not fit the
    column. ``group`` (one name per filter) adds a column for :func:`slider` to filter on.
    Values are rounded to 3 decimals, enough for the eye and small on the page.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or 0 in images.shape:
        raise ValueError(f"images must have shape (n, H, W), got {images.shape}")
    if not np.all(np.isfinite(images)):
        raise ValueError("images must be finite")
    labels = [str(label) for label in labels]
    if len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} names for {len(images)} images")
    if group is not None and len(group) != len(images):
        raise ValueError(f"group has {len(group)} names for {len(images)} images")
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    n, height, width = images.shape
    peak = np.abs(images).max(axis=(1, 2), keepdims=True)
    scaled = np.round(np.divide(images, peak, out=np.zeros_like(images), where=peak > 0), 3)
    room = COLUMN_WIDTH - LEGEND_ALLOWANCE
    label_px = int(max(len(label) for label in labels) * 11 * _CHAR_WIDTH) + 1
    per_row = max(1, min(columns, n, room // (label_px + 20)))     # headers must fit too
    pixel = pixel or max(1, min(4, (room - 20 * per_row) // (per_row * width)))
    rows, cols = np.indices((height, width))
    table_rows = []
    for k in range(n):
        extra = {} if group is None else {"group": str(group[k])}
        table_rows += [dict(filter=labels[k], row=int(r), col=int(c), value=float(v), **extra)
                       for r, c, v in zip(rows.ravel(), cols.ravel(), scaled[k].ravel())]
    axis = dict(axis=None)
    chart = alt.Chart(alt.Data(values=table_rows)).mark_rect().encode(
        alt.X("col:O", **axis),
        alt.Y("row:O", **axis),
        alt.Color("value:Q", title="weight (of max)",
                  scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True)),
        tooltip=["filter:N", "row:O", "col:O", "value:Q"],
    ).properties(width=pixel * width, height=pixel * height)
    faceted = chart.facet(alt.Facet("filter:N", title=None, sort=labels,
                                    header=alt.Header(labelFontSize=11)), columns=per_row,
                            spacing=20)
    return _titled(faceted, title, caption)


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
    values: Sequence[Any],
    name: str | None = None,
    label: str | None = None,
    labels: Sequence[str] | None = None,
    fixed_axes: bool = True,
) -> alt.Chart | alt.LayerChart:
    """Make a chart of a whole parameter grid show one grid value at a time, chosen by a slider.

    ``chart`` holds rows for every value of ``field`` in ``values`` (small multiples stacked
    in one table); the control is an ``alt.param`` and each layer is filtered to the rows of
    the chosen value (a faceted chart, such as :func:`gallery`, is filtered before it is
    split into panels, so the panels shown are those of the chosen value). Numbers make a
    range slider and must be evenly spaced (depths, seeds, a linear grid of σ_w); strings, or ``labels`` (one name per value), make a row of named
    buttons instead of an index. ``fixed_axes`` keeps the quantitative x and y domains of the
    whole grid at every step, so what moves is the data, not the axes. The result works on
    the static site.
    """
    if not isinstance(chart, (alt.Chart, alt.LayerChart, alt.FacetChart)):
        raise TypeError(f"chart must be an alt.Chart, alt.LayerChart or alt.FacetChart, "
                        f"got {type(chart).__name__}")
    values = list(values)
    if not values:
        raise ValueError("values is empty")
    name = name or f"{_identifier(field)}_slider"
    caption = f"{label or field} "
    if labels is not None or any(isinstance(v, str) for v in values):
        labels = [str(v) for v in values] if labels is None else list(labels)
        if len(labels) != len(values):
            raise ValueError(f"labels has {len(labels)} names for {len(values)} values")
        options = [_plain(v) for v in values]
        param = alt.param(name=name, value=options[0],
                          bind=alt.binding_radio(options=options, labels=labels, name=caption))
        keep = f"datum[{json.dumps(field)}] == {name}"
    else:
        grid = np.asarray(sorted(set(float(v) for v in values)))
        step = float(np.min(np.diff(grid))) if grid.size > 1 else 1.0
        if grid.size > 1 and not np.allclose(np.diff(grid), step, rtol=1e-6, atol=1e-12):
            raise ValueError("values must be evenly spaced for a slider; use an integer index column")
        param = alt.param(name=name, value=_plain(grid[0]),
                          bind=alt.binding_range(min=_plain(grid[0]), max=_plain(grid[-1]),
                                                 step=step, name=caption))
        keep = f"abs(datum[{json.dumps(field)}] - {name}) < {step / 2}"
    chart = chart.copy(deep=True)
    if isinstance(chart, alt.FacetChart):            # small multiples (:func:`gallery`): one filter
        return chart.transform_filter(keep).add_params(param)
    if fixed_axes:
        _fix_domains(chart)
    if isinstance(chart, alt.LayerChart):
        layers = [layer.transform_filter(keep) for layer in chart.layer]
        props = {k: getattr(chart, k) for k in ("data", "title", "width", "height")
                 if getattr(chart, k, alt.Undefined) is not alt.Undefined}
        return alt.layer(*layers).properties(**props).add_params(param)
    return chart.transform_filter(keep).add_params(param)


def _units(chart: Any, data: Any = alt.Undefined) -> list[tuple[Any, Any]]:
    """(unit chart, its data) for a chart or the layers of a layer chart, nested layers too."""
    own = getattr(chart, "data", alt.Undefined)
    data = own if own is not alt.Undefined else data
    if isinstance(chart, alt.LayerChart):
        return [unit for layer in chart.layer for unit in _units(layer, data)]
    return [(chart, data)]


def _get(schema: Any, key: str) -> Any:
    """A property of an Altair schema object (channels answer attribute access with setters)."""
    return schema._get(key) if isinstance(schema, alt.SchemaBase) else alt.Undefined


def _channel_field(channel: Any) -> tuple[str | None, str | None]:
    field, kind, shorthand = (_get(channel, k) for k in ("field", "type", "shorthand"))
    if isinstance(shorthand, str):
        parsed = alt.utils.parse_shorthand(shorthand)
        field = parsed.get("field") if field is alt.Undefined else field
        kind = parsed.get("type") if kind is alt.Undefined else kind
    return (field if isinstance(field, str) else None), (kind if isinstance(kind, str) else None)


def _fix_domains(chart: alt.Chart | alt.LayerChart) -> None:
    """Set each quantitative x/y scale's domain to the extent of all rows, in place."""
    units = [(_get(unit, "encoding"), data) for unit, data in _units(chart)]
    for axis in ("x", "y"):
        found, log, channels = [], False, []
        for encoding, data in units:
            rows = data.values if isinstance(data, alt.Data) else None
            for name in (axis, f"{axis}2"):
                channel = _get(encoding, name)
                field, kind = _channel_field(channel)
                if field is None or kind not in (None, "quantitative") or not isinstance(rows, list):
                    continue
                found += [r[field] for r in rows if isinstance(r.get(field), (int, float))]
                if name == axis:
                    channels.append(channel)
                    log |= _get(_get(channel, "scale"), "type") == "log"
        numbers = np.asarray(found, dtype=float)
        numbers = numbers[numbers > 0] if log else numbers
        if numbers.size == 0 or numbers.min() == numbers.max():
            continue
        domain = [_plain(numbers.min()), _plain(numbers.max())]
        for channel in channels:
            scale = _get(channel, "scale")
            if scale is None or _get(scale, "domain") is not alt.Undefined:
                continue
            own = scale.to_dict() if isinstance(scale, alt.SchemaBase) else {}
            channel.scale = alt.Scale(**{**own, "domain": domain})


class Table:
    """A small table that shows as HTML in notebooks and on the site, aligned text elsewhere."""

    def __init__(self, columns: list[str], rows: list[list[str]], caption: str | None):
        self.columns, self.rows, self.caption = columns, rows, caption

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="neurotheory-table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in self.rows]
        return "\n".join(([self.caption] if self.caption else []) + lines)


def _cell(value: Any, spec: str | None, digits: int) -> str:
    value = _plain(value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if spec is not None:
        return format(value, spec)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e6 else f"{value:.{digits}g}"
    return str(value)


def html_table(rows: Sequence[Mapping[str, Any]], *, columns: Mapping[str, str] | None = None,
               formats: Mapping[str, str] | None = None, digits: int = 3,
               caption: str | None = None) -> Table:
    """Rows of a small results table, shown as an HTML table (the last line of a cell).

    ``rows`` are dicts with the same keys; ``columns`` maps keys to the headings shown (and
    picks and orders them; default: every key, as is); ``formats`` gives a format spec per
    key (``{"accuracy": ".1%"}``); other numbers show ``digits`` significant digits and
    ``None`` or NaN a dash.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows is empty")
    if not all(isinstance(r, Mapping) for r in rows):
        raise TypeError("rows must be dicts of column → value")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    columns = dict(columns) if columns is not None else {k: k for k in rows[0]}
    missing = sorted({k for k in columns for r in rows if k not in r})
    if missing:
        raise ValueError(f"rows lack the columns {missing}")
    formats = dict(formats or {})
    unknown = sorted(set(formats) - set(columns))
    if unknown:
        raise ValueError(f"formats names columns that are not shown: {unknown}")
    body = [[_cell(r[k], formats.get(k), digits) for k in columns] for r in rows]
    return Table(list(columns.values()), body, caption)


class Line:
    """One line of text that shows as a paragraph in notebooks and on the site."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="neurotheory-summary">{html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return self.text


def sizes(size: Mapping[str, Any], scale: str | None = None) -> Line:
    """The sizes cell's summary: ``quick scale: width 256 · networks 16 · depth 30``."""
    if not isinstance(size, Mapping) or not size:
        raise ValueError("size must be a non-empty dict of the chapter's sizes")
    if scale is None:
        from neurotheory import runtime
        scale = runtime.scale()

    def show(value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return ", ".join(show(v) for v in value) if value else "none"
        return _cell(value, None, 3)

    return Line(f"{scale} scale: " + " · ".join(f"{k.replace('_', ' ')} {show(v)}"
                                                 for k, v in size.items()))


def _identifier(text: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in text)
    return out if out and not out[0].isdigit() else f"p_{out}"
