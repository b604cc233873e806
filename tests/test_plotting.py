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
