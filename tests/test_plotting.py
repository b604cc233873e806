import json

import altair as alt
import numpy as np
import pytest

from neurotheory import plotting


def spec(chart):
    return chart.to_dict()


def test_theme_and_renderer_are_enabled():
    assert alt.theme.active == plotting.THEME
    assert alt.renderers.active == plotting.THEME


def test_renderer_uses_page_vega_or_altair_versions():
    chart = alt.Chart(alt.Data(values=plotting.table(x=[1, 2], y=[3, 4]))).mark_line().encode(x="x:Q", y="y:Q")
    bundle = chart._repr_mimebundle_()
    html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    assert "window.vegaEmbed" in html
    assert f"vega-lite@{alt.VEGALITE_VERSION}" in html
    assert '"renderer": "svg"' in html


def test_table_rows_and_scalars():
    rows = plotting.table(x=np.arange(3), y=np.array([0.5, 1.5, 2.5]), label="a")
    assert rows == [{"x": 0, "y": 0.5, "label": "a"}, {"x": 1, "y": 1.5, "label": "a"},
                    {"x": 2, "y": 2.5, "label": "a"}]
    json.dumps(rows)


def test_table_refuses_nan_and_ragged():
    with pytest.raises(ValueError, match="'y' has NaN"):
        plotting.table(x=[1, 2], y=[1.0, np.nan])
    with pytest.raises(ValueError, match="differ in length"):
        plotting.table(x=[1, 2], y=[1.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        plotting.table(x=np.zeros((2, 2)))


def test_beyond_default_row_limit():
    n = 12_000
    chart = alt.Chart(alt.Data(values=plotting.table(x=np.arange(n), y=np.arange(n) ** 0.5))).mark_point()
    assert len(chart.encode(x="x:Q", y="y:Q").to_dict()["data"]["values"]) == n


def test_theory_over_simulation_layers_and_titles():
    theory = {"x": np.linspace(0, 1, 5), "y": np.linspace(0, 1, 5)}
    sim = {"x": [0.1, 0.6], "y": [0.12, 0.58]}
    s = spec(plotting.theory_over_simulation(theory, sim, x="x", y="y", x_title="time t (s)",
                                             y_title="rate (Hz)", title="T", caption="C"))
    assert [layer["mark"]["type"] for layer in s["layer"]] == ["line", "point"]
    assert s["title"] == {"text": "T", "subtitle": "C"}
    assert s["layer"][0]["encoding"]["x"]["title"] == "time t (s)"


def test_every_chart_needs_a_caption():
    with pytest.raises(ValueError, match="caption"):
        plotting.theory_over_simulation({"x": [0], "y": [0]}, {"x": [0], "y": [0]}, x="x", y="y",
                                        x_title="a", y_title="b", title="T", caption="")


def test_heatmap_and_spectrum():
    grid = plotting.table(i=np.repeat(np.arange(3), 3), j=np.tile(np.arange(3), 3), v=np.arange(9.0))
    h = spec(plotting.heatmap(grid, x="i", y="j", value="v", x_title="i", y_title="j",
                              value_title="v", title="T", caption="C"))
    assert h["mark"]["type"] == "rect"
    samples = np.random.default_rng(0).normal(size=2000)
    rows = plotting.histogram_density(samples, 40)
    assert sum((r["hi"] - r["lo"]) * r["density"] for r in rows) == pytest.approx(1.0)
    x = np.linspace(-4, 4, 100)
    s = spec(plotting.spectrum(samples, x, np.exp(-x**2 / 2) / np.sqrt(2 * np.pi),
                               x_title="eigenvalue λ", title="T", caption="C"))
    assert [layer["mark"]["type"] for layer in s["layer"]] == ["rect", "line"]
    with pytest.raises(ValueError, match="equal length"):
        plotting.spectrum(samples, x, x[:-1], x_title="λ", title="T", caption="C")


def test_slider_filters_every_layer_on_a_bound_param():
    rows = plotting.table(depth=np.repeat([2, 4, 6], 3), x=np.tile([0, 1, 2], 3), y=np.arange(9.0))
    base = plotting.theory_over_simulation(rows, rows, x="x", y="y", x_title="x", y_title="y",
                                           title="T", caption="C")
    s = spec(plotting.slider(base, field="depth", values=[2, 4, 6], label="depth"))
    param = s["params"][0]
    assert param["bind"]["input"] == "range"
    assert (param["bind"]["min"], param["bind"]["max"], param["bind"]["step"]) == (2, 6, 2)
    for layer in s["layer"]:
        assert any("depth" in t.get("filter", "") for t in layer["transform"])
    assert s["title"]["text"] == "T"


def test_slider_needs_even_grid():
    chart = alt.Chart(alt.Data(values=plotting.table(a=[1, 2, 5]))).mark_point().encode(x="a:Q")
    with pytest.raises(ValueError, match="evenly spaced"):
        plotting.slider(chart, field="a", values=[1, 2, 5])


def test_panel_width_fits_the_column():
    for columns in (1, 2, 3):
        for legend in (False, True):
            width = plotting.panel_width(columns, legend=legend)
            used = columns * (width + plotting.AXIS_ALLOWANCE) + legend * plotting.LEGEND_ALLOWANCE
            assert used <= plotting.COLUMN_WIDTH < used + columns
    assert plotting.panel_width(2) < plotting.panel_width(1)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="columns"):
            plotting.panel_width(bad)
    with pytest.raises(ValueError, match="wrap them"):
        plotting.panel_width(8, legend=True)


def test_theme_fits_the_column_and_dark_pages():
    config = spec(alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q"))["config"]
    assert config["view"]["continuousWidth"] == plotting.panel_width(1, legend=True)
    assert config["background"] == "transparent"
    assert config["legend"]["labelLimit"] == 0          # legends are never truncated


def test_book_colours_are_one_per_entity():
    assert plotting.color("HALS") == plotting.color("hals") == plotting.COLORS["hals"]
    families = [("mu", "hals", "anls"), ("vanilla", "gru", "lstm", "ugrnn"),
                ("linear", "tanh", "relu", "hard_tanh", "erf", "sigmoid")]
    for family in families:
        assert len({plotting.color(name) for name in family}) == len(family), family
    with pytest.raises(ValueError, match="'softplus' has no colour"):
        plotting.color("softplus")
    with pytest.raises(TypeError, match="name must be a string"):
        plotting.color(3)
    enc = plotting.colors("method", ["MU", "HALS", "ANLS"], title="algorithm").to_dict()
    assert enc["scale"] == {"domain": ["MU", "HALS", "ANLS"],
                            "range": [plotting.color(m) for m in ("mu", "hals", "anls")]}
    with pytest.raises(ValueError, match="names is empty"):
        plotting.colors("method", [])
    dash = plotting.dashes("weights", ["orthogonal", "gaussian"]).to_dict()
    assert dash["scale"]["range"] == [[1, 0], [6, 3]]
    with pytest.raises(ValueError, match="no dash"):
        plotting.dashes("weights", ["uniform"])


def test_theory_over_simulation_uses_book_colours_and_dashes():
    rows = plotting.table(x=[1, 2, 1, 2], y=[1.0, 2.0, 1.5, 2.5], phi=["tanh", "tanh", "relu", "relu"],
                          weights=["orthogonal", "orthogonal", "gaussian", "gaussian"])
    s = spec(plotting.theory_over_simulation(rows, rows, x="x", y="y", series="phi", dash="weights",
                                             x_title="x", y_title="y", title="T", caption="C"))
    line, points = s["layer"]
    assert line["encoding"]["color"]["scale"]["range"] == [plotting.color("tanh"), plotting.color("relu")]
    assert line["encoding"]["strokeDash"]["field"] == "weights"
    assert points["encoding"]["shape"]["field"] == "weights"
    plain = plotting.table(x=[1, 2], y=[1.0, 2.0], s=["a very long series label here", "b"])
    s = spec(plotting.theory_over_simulation(plain, plain, x="x", y="y", series="s", x_title="x",
                                             y_title="y", title="T", caption="C"))
    assert "scale" not in s["layer"][0]["encoding"]["color"]
    assert s["layer"][0]["encoding"]["color"]["legend"]["orient"] == "bottom"


def test_slider_keeps_the_axes_of_the_whole_grid():
    rows = plotting.table(depth=np.repeat([2, 4], 3), x=np.tile([0.0, 1.0, 2.0], 2),
                          y=np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0]))
    base = plotting.theory_over_simulation(rows, rows, x="x", y="y", x_title="x", y_title="y",
                                           title="T", caption="C", log_y=True)
    s = spec(plotting.slider(base, field="depth", values=[2, 4]))
    for layer in s["layer"]:
        assert layer["encoding"]["y"]["scale"] == {"type": "log", "domain": [1.0, 30.0]}
        assert layer["encoding"]["x"]["scale"]["domain"] == [0.0, 2.0]
    assert "domain" not in spec(base)["layer"][0]["encoding"]["y"]["scale"]   # input untouched
    loose = spec(plotting.slider(base, field="depth", values=[2, 4], fixed_axes=False))
    assert "domain" not in loose["layer"][0]["encoding"]["y"]["scale"]


def test_slider_names_categorical_steps():
    rows = plotting.table(cell=["gru", "lstm"], x=[0.0, 1.0], y=[1.0, 2.0])
    chart = alt.Chart(alt.Data(values=rows)).mark_point().encode(x="x:Q", y="y:Q")
    s = spec(plotting.slider(chart, field="cell", values=["gru", "lstm"], labels=["GRU", "LSTM"],
                             label="cell"))
    bind = s["params"][0]["bind"]
    assert bind["input"] == "radio" and bind["labels"] == ["GRU", "LSTM"]
    assert bind["options"] == ["gru", "lstm"]
    assert any('datum["cell"] == cell_slider' in t.get("filter", "") for t in s["transform"])
    with pytest.raises(ValueError, match="labels has 1 names for 2 values"):
        plotting.slider(chart, field="cell", values=["gru", "lstm"], labels=["GRU"])
    with pytest.raises(TypeError, match="alt.Chart, alt.LayerChart or alt.FacetChart"):
        plotting.slider(alt.hconcat(chart, chart), field="cell", values=["gru"])


def test_titles_wrap_to_their_view_and_axis_titles_do_not():
    long = "a caption that goes on " * 12
    chart = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(
        alt.X("x:Q", title=long)).properties(width=200, title=alt.Title("T", subtitle=long))
    s = plotting.wrap_titles(spec(alt.hconcat(chart, chart)))["hconcat"][0]   # a 200 px panel
    lines = s["title"]["subtitle"]
    assert isinstance(lines, list) and len(lines) > 2
    assert all(len(line) <= 200 / (plotting._CHAR_WIDTH * 12) for line in lines)
    assert " ".join(lines) == long.strip()
    assert s["encoding"]["x"]["title"] == long
    alone = plotting.wrap_titles(spec(chart))["title"]["subtitle"]   # on its own: wider lines
    assert len(alone[0]) > len(lines[0])
    assert max(map(len, alone)) <= plotting.panel_width(1, legend=True) / (plotting._CHAR_WIDTH * 12)
    html = chart._repr_mimebundle_()
    html = (html[0] if isinstance(html, tuple) else html)["text/html"]
    assert json.dumps(alone[0]) in html                  # the renderer draws wrapped titles


def test_heatmap_fits_the_column_for_fine_grids():
    grid = plotting.table(t=np.repeat(np.arange(300), 2), n=np.tile([0, 1], 300), v=np.ones(600))
    h = spec(plotting.heatmap(grid, x="t", y="n", value="v", x_title="t", y_title="n",
                              value_title="v", title="T", caption="C"))
    assert h["width"] == plotting.panel_width(1, legend=True) and h["height"] == 44


def test_html_table_and_sizes_read_as_text_and_html():
    t = plotting.html_table([dict(cell="gru", accuracy=0.8734, steps=1500, gap=None),
                             dict(cell="<lstm>", accuracy=0.5, steps=20, gap=float("nan"))],
                            columns={"cell": "cell", "accuracy": "accuracy", "steps": "steps",
                                     "gap": "gap"}, formats={"accuracy": ".1%"}, caption="Cells")
    html = t._repr_html_()
    assert "<caption>Cells</caption>" in html and "&lt;lstm&gt;" in html
    assert "<td>87.3%</td>" in html and "<td>1,500</td>" in html and "<td>—</td>" in html
    assert repr(t).splitlines()[1].split() == ["cell", "accuracy", "steps", "gap"]
    with pytest.raises(ValueError, match="rows is empty"):
        plotting.html_table([])
    with pytest.raises(ValueError, match=r"lack the columns \['b'\]"):
        plotting.html_table([{"a": 1}], columns={"a": "A", "b": "B"})
    with pytest.raises(ValueError, match="formats names columns"):
        plotting.html_table([{"a": 1}], formats={"z": ".1f"})
    with pytest.raises(TypeError, match="dicts"):
        plotting.html_table([1, 2])
    line = plotting.sizes(dict(width=256, lr=0.005, widths=(16, 48), imdb=False), scale="quick")
    assert repr(line) == "quick scale: width 256 · lr 0.005 · widths 16, 48 · imdb no"
    assert line._repr_html_().startswith('<p class="neurotheory-summary">quick scale')
    assert repr(plotting.sizes(dict(cells=()), scale="quick")) == "quick scale: cells none"
    with pytest.raises(ValueError, match="size must be"):
        plotting.sizes({})


def test_gallery_scales_each_filter_and_slides_by_group():
    fields = np.stack([np.full((3, 4), -2.0), np.arange(12.0).reshape(3, 4), np.zeros((3, 4))])
    chart = plotting.gallery(fields, labels=["a", "b", "c"], title="t", caption="c", columns=2,
                             group=["x", "x", "y"])
    d = chart.to_dict()
    values = {(r["filter"], r["row"], r["col"]): r["value"] for r in d["data"]["values"]}
    assert values["a", 0, 0] == -1.0 and values["b", 2, 3] == 1.0 and values["c", 1, 1] == 0.0
    assert values["b", 0, 1] == round(1 / 11, 3)
    assert d["columns"] == 2 and d["spec"]["width"] == d["spec"]["height"] * 4 / 3
    assert plotting.COLUMN_WIDTH >= 2 * (d["spec"]["width"] + 10)
    slid = plotting.slider(chart, field="group", values=["x", "y"]).to_dict()
    assert slid["transform"] == [{"filter": 'datum["group"] == group_slider'}]
    with pytest.raises(ValueError, match="labels"):
        plotting.gallery(fields, labels=["a"], title="t", caption="c")
    with pytest.raises(ValueError, match="images"):
        plotting.gallery(np.zeros((3, 3)), labels=["a"], title="t", caption="c")
    with pytest.raises(ValueError, match="caption"):
        plotting.gallery(fields, labels=["a", "b", "c"], title="t", caption="")
