"""The book's standard controls and one way to bind them to a chart that redraws.

    live(lambda depth, phi: chart(depth, phi), depth=widgets.depth(), phi=widgets.nonlinearity())

In Jupyter and Colab the controls redraw the chart on every change (debounced). On the
static site, where no kernel runs, the chart drawn at the controls' default values shows in
place of the widget.
"""

from __future__ import annotations

import asyncio
import html
import math
from typing import Any, Callable

import ipywidgets as w
from IPython.core.formatters import format_display_data

NONLINEARITIES = ("linear", "tanh", "relu", "hard_tanh", "erf", "sigmoid")
ARCHITECTURES = ("vanilla", "gru", "lstm", "ugrnn")
_STYLE = {"description_width": "initial"}
_LAYOUT = w.Layout(width="300px")


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value} is outside [{lo}, {hi}]")


def depth(value: int = 10, *, min: int = 1, max: int = 200, description: str = "depth L") -> w.IntSlider:
    """Number of layers (or hidden layers)."""
    _check_range("value", value, min, max)
    return w.IntSlider(value=value, min=min, max=max, step=1, description=description,
                       continuous_update=False, style=_STYLE, layout=_LAYOUT)


def nonlinearity(value: str = "tanh", *, options: tuple[str, ...] = NONLINEARITIES,
                 description: str = "nonlinearity φ") -> w.Dropdown:
    """Pointwise nonlinearity, by the names :mod:`neurotheory` modules understand."""
    if value not in options:
        raise ValueError(f"value={value!r} is not one of {options}")
    return w.Dropdown(value=value, options=list(options), description=description, style=_STYLE)


def snr(value: float = 1.0, *, min: float = 1e-2, max: float = 1e2, description: str = "SNR") -> w.FloatLogSlider:
    """Signal-to-noise ratio on a log scale."""
    if min <= 0:
        raise ValueError(f"min must be positive for a log scale, got {min}")
    _check_range("value", value, min, max)
    return w.FloatLogSlider(value=value, base=10, min=math.log10(min), max=math.log10(max), step=0.05,
                            description=description, continuous_update=False, style=_STYLE,
                            layout=_LAYOUT)


def architecture(value: str = "gru", *, options: tuple[str, ...] = ARCHITECTURES,
                 description: str = "cell") -> w.ToggleButtons:
    """Recurrent cell type."""
    if value not in options:
        raise ValueError(f"value={value!r} is not one of {options}")
    return w.ToggleButtons(value=value, options=list(options), description=description, style=_STYLE)


def seed(value: int = 0, *, max: int = 99, description: str = "seed") -> w.BoundedIntText:
    """Random seed (see :func:`neurotheory.runtime.key`)."""
    _check_range("value", value, 0, max)
    return w.BoundedIntText(value=value, min=0, max=max, description=description, style=_STYLE,
                            layout=w.Layout(width="160px"))


def scale_slider(value: float, *, min: float, max: float, step: float, description: str) -> w.FloatSlider:
    """A real-valued knob such as σ_w, σ_b or a learning rate."""
    _check_range("value", value, min, max)
    return w.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, style=_STYLE, layout=_LAYOUT)


def _bundle(obj: Any) -> dict[str, Any]:
    data, metadata = format_display_data(obj)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _error_bundle(err: Exception) -> dict[str, Any]:
    message = f"{type(err).__name__}: {err}"
    if len(message) > 300:
        message = message[:297] + "..."
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": f"⚠ {message}",
                     "text/html": f'<pre class="neurotheory-widget-error">⚠ {html.escape(message)}</pre>'}}


class Live(w.VBox):
    """Controls above an output that shows ``chart_fn(**values)``; see :func:`live`."""

    def __init__(self, chart_fn: Callable[..., Any], controls: dict[str, w.ValueWidget], debounce: float):
        self.chart_fn = chart_fn
        self.controls = controls
        self.debounce = debounce
        self.output = w.Output()
        self._pending: asyncio.TimerHandle | None = None
        self._initial = _bundle(chart_fn(**self.values()))
        self.output.outputs = (self._initial,)
        row = w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap", grid_gap="4px 16px"))
        super().__init__([row, self.output])
        for control in controls.values():
            control.observe(self._changed, names="value")

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        """Draw the chart for the current values; an error replaces it with a short message."""
        self._pending = None
        try:
            bundle = _bundle(self.chart_fn(**self.values()))
        except Exception as err:  # noqa: BLE001 - shown to the reader, the widget keeps working
            bundle = _error_bundle(err)
        self.output.outputs = (bundle,)

    def _changed(self, _change: dict) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.debounce <= 0:
            self.redraw()
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = loop.call_later(self.debounce, self.redraw)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        knobs = ", ".join(html.escape(c.description or name) for name, c in self.controls.items())
        note = (f'<p class="neurotheory-static-note">Run this notebook in Jupyter or Colab to change '
                f'{knobs} live; shown here at the default values.</p>\n')
        static = self._initial["data"].get("text/html")
        if static is not None:
            data["text/html"] = note + static
        return bundle


def live(chart_fn: Callable[..., Any], *, debounce: float = 0.25, **controls: w.ValueWidget) -> Live:
    """Controls bound to a chart: ``chart_fn(**{name: control.value})`` redraws on every change.

    Redraws are debounced by ``debounce`` seconds, so dragging a slider computes once. An
    exception during a redraw shows as a one-line message where the chart was, and the next
    change draws again. The first draw (default values) must succeed; it is also what the
    static site shows.
    """
    if not callable(chart_fn):
        raise TypeError(f"chart_fn must be callable, got {type(chart_fn).__name__}")
    if not controls:
        raise ValueError("live needs at least one control, e.g. depth=widgets.depth()")
    for name, control in controls.items():
        if not isinstance(control, w.ValueWidget):
            raise TypeError(f"control {name!r} must be an ipywidgets value widget, got {type(control).__name__}")
    if debounce < 0:
        raise ValueError(f"debounce must be non-negative, got {debounce}")
    return Live(chart_fn, dict(controls), debounce)
