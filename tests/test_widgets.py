import asyncio

import altair as alt
import ipywidgets as w
import pytest

from neurotheory import plotting, widgets


def chart(depth, phi="tanh"):
    if depth > 50:
        raise RuntimeError("too deep for this test")
    rows = plotting.table(x=[0, depth], y=[0, 1])
    return alt.Chart(alt.Data(values=rows)).mark_line().encode(x="x:Q", y="y:Q").properties(title=f"{phi} {depth}")


def shown(live):
    (output,) = live.output.outputs
    return output["data"]


def test_standard_controls():
    assert widgets.depth().value == 10
    assert widgets.nonlinearity().options == widgets.NONLINEARITIES
    assert set(widgets.NONLINEARITIES) == {"linear", "tanh", "relu", "hard_tanh", "erf", "sigmoid"}
    assert widgets.architecture().options == ("vanilla", "gru", "lstm", "ugrnn")
    snr = widgets.snr()
    assert isinstance(snr, w.FloatLogSlider) and snr.min == -2 and snr.max == 2
    assert widgets.seed(3).value == 3


@pytest.mark.parametrize("make", [lambda: widgets.depth(0), lambda: widgets.nonlinearity("swish"),
                                  lambda: widgets.snr(1e3), lambda: widgets.architecture("rnn"),
                                  lambda: widgets.snr(1.0, min=0.0)])
def test_bad_control_values(make):
    with pytest.raises(ValueError):
        make()


def test_live_draws_defaults_and_redraws_on_change():
    live = widgets.live(chart, debounce=0, depth=widgets.depth(5), phi=widgets.nonlinearity())
    assert "tanh 5" in shown(live)["text/html"]
    live.controls["depth"].value = 7
    assert "tanh 7" in shown(live)["text/html"]
    live.controls["phi"].value = "relu"
    assert "relu 7" in shown(live)["text/html"]


def test_live_survives_an_exception():
    live = widgets.live(chart, debounce=0, depth=widgets.depth(5))
    live.controls["depth"].value = 60
    data = shown(live)
    assert "RuntimeError: too deep for this test" in data["text/plain"]
    assert "neurotheory-widget-error" in data["text/html"]
    live.controls["depth"].value = 8
    assert "tanh 8" in shown(live)["text/html"]


def test_live_debounces_inside_an_event_loop():
    async def scenario():
        live = widgets.live(chart, debounce=0.05, depth=widgets.depth(5))
        for depth in (6, 7, 9):
            live.controls["depth"].value = depth
        assert "tanh 5" in shown(live)["text/html"]   # nothing drawn yet
        await asyncio.sleep(0.2)
        return shown(live)["text/html"]

    assert "tanh 9" in asyncio.run(scenario())


def test_static_view_carries_the_default_chart():
    live = widgets.live(chart, depth=widgets.depth(5))
    bundle = live._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "tanh 5" in data["text/html"]
    assert "Run this notebook in Jupyter or Colab to change depth L live" in data["text/html"]


def test_live_validates_arguments():
    with pytest.raises(TypeError, match="chart_fn"):
        widgets.live(42, depth=widgets.depth())
    with pytest.raises(ValueError, match="at least one control"):
        widgets.live(chart)
    with pytest.raises(TypeError, match="'depth'"):
        widgets.live(chart, depth=5)
