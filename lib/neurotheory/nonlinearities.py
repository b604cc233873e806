"""Pointwise nonlinearities φ by name, with their derivatives φ′, and Gaussian averages of them.

The names are the ones the widgets offer: ``linear``, ``tanh``, ``relu``, ``hard_tanh``,
``erf``, ``sigmoid``, ``selu``, ``swish``, ``sin``. A callable is accepted wherever a name
is (its derivative comes from ``jax.grad``); :func:`shifted_relu` makes one that also tells
where its derivative jumps (:func:`kinks`), so Gaussian averages can split there.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

Phi = Callable[[jax.Array], jax.Array]

SELU_ALPHA = 1.6732632423543772  # Klambauer et al. (2017): the self-normalizing point
SELU_SCALE = 1.0507009873554805

_PHI: dict[str, Phi] = {
    "linear": lambda h: h,
    "tanh": jnp.tanh,
    "relu": lambda h: jnp.maximum(h, 0.0),
    "hard_tanh": lambda h: jnp.clip(h, -1.0, 1.0),
    "erf": jax.scipy.special.erf,
    "sigmoid": jax.nn.sigmoid,
    "selu": lambda h: SELU_SCALE * jnp.where(h > 0, h, SELU_ALPHA * jnp.expm1(jnp.minimum(h, 0.0))),
    "swish": lambda h: h * jax.nn.sigmoid(h),
    "sin": jnp.sin,
}

_DPHI: dict[str, Phi] = {
    "linear": jnp.ones_like,
    "tanh": lambda h: 1.0 - jnp.tanh(h) ** 2,
    "relu": lambda h: (h > 0).astype(h.dtype),
    "hard_tanh": lambda h: (jnp.abs(h) < 1.0).astype(h.dtype),
    "erf": lambda h: 2.0 / jnp.sqrt(jnp.pi) * jnp.exp(-h ** 2),
    "sigmoid": lambda h: jax.nn.sigmoid(h) * (1.0 - jax.nn.sigmoid(h)),
    "selu": lambda h: SELU_SCALE * jnp.where(h > 0, 1.0, SELU_ALPHA * jnp.exp(jnp.minimum(h, 0.0))),
    "swish": lambda h: jax.nn.sigmoid(h) * (1.0 + h * (1.0 - jax.nn.sigmoid(h))),
    "sin": jnp.cos,
}

_KINKS: dict[str, tuple[float, ...]] = {"relu": (0.0,), "hard_tanh": (-1.0, 1.0), "selu": (0.0,)}

NAMES = tuple(_PHI)


def get(phi: str | Phi) -> Phi:
    """φ for a name in :data:`NAMES`, or ``phi`` itself if it is callable."""
    if callable(phi):
        return phi
    if phi not in _PHI:
        raise ValueError(f"phi={phi!r} is not a known nonlinearity; use one of {NAMES} or a callable")
    return _PHI[phi]


def derivative(phi: str | Phi) -> Phi:
    """φ′, exact for named nonlinearities and by ``jax.grad`` for a callable."""
    if callable(phi):
        return jnp.vectorize(jax.grad(phi))
    get(phi)
    return _DPHI[phi]


def kinks(phi: str | Phi) -> tuple[float, ...]:
    """The points where φ′ jumps: known for names, a callable's ``kinks`` attribute otherwise."""
    if callable(phi):
        return tuple(float(k) for k in getattr(phi, "kinks", ()))
    get(phi)
    return _KINKS.get(phi, ())


def shifted_relu(c: float) -> Phi:
    """φ(h) = ReLU(h + c) − ReLU(c): zero at zero, φ′ ∈ {0, 1} with its jump at h = −c.

    For c > 0 this is max(h, −c), a ReLU whose floor sits below zero, so near h = 0 it is
    linear (hard-tanh-like) rather than kinked. The same ``c`` returns the same function
    (one compilation serves repeated calls).
    """
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)):
        raise TypeError(f"c must be a number, got {type(c).__name__}")
    if not math.isfinite(c):
        raise ValueError(f"c must be finite, got {c}")
    return _shifted_relu(float(c))


@functools.lru_cache(maxsize=None)
def _shifted_relu(c: float) -> Phi:
    def phi(h):
        return jnp.maximum(h + c, 0.0) - max(c, 0.0)

    phi.kinks = (-c,)
    phi.__name__ = phi.__qualname__ = f"shifted_relu({c:g})"
    return phi


def from_expression(expression: str) -> Phi:
    """φ from a formula in ``h``, such as ``"jnp.tanh(h) + 0.1 * h"`` (the widgets' custom box).

    The text is evaluated with only ``h``, ``jnp`` and ``jax`` in scope; it runs in the
    reader's own kernel, like any cell they type. The same text returns the same function
    (one compilation per formula). Raises ValueError, quoting the formula, when it does not
    parse, fails on an array, or does not return finite values and derivatives of h's shape.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"expression must be a non-empty formula in h, got {expression!r}")
    return _from_expression(expression.strip())


@functools.lru_cache(maxsize=64)
def _from_expression(expression: str) -> Phi:
    try:
        code = compile(expression, "<phi>", "eval")
    except SyntaxError as err:
        raise ValueError(f"expression {expression!r} does not parse: {err.msg}") from None
    scope = {"__builtins__": {}, "jnp": jnp, "jax": jax}

    def phi(h):
        return jnp.asarray(eval(code, scope, {"h": h}), dtype=jnp.result_type(h)) + jnp.zeros_like(h)

    phi.__name__ = phi.__qualname__ = expression
    probe = jnp.linspace(-2.0, 2.0, 9)
    try:
        values, slopes = phi(probe), derivative(phi)(probe)
    except Exception as err:  # the reader's formula may fail in any way; say which formula
        raise ValueError(f"expression {expression!r} fails on an array h: {err}") from None
    if values.shape != probe.shape or not (jnp.all(jnp.isfinite(values)) and jnp.all(jnp.isfinite(slopes))):
        raise ValueError(f"expression {expression!r} must give finite values and derivatives shaped like h")
    return phi


@functools.lru_cache(maxsize=None)
def gauss_hermite(n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with Σ w f(z) ≈ E[f(z)], z ~ N(0, 1) (probabilists' Hermite rule).

    Cached per ``n``; the arrays are read-only.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    z, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / np.sqrt(2.0 * np.pi)
    z.flags.writeable = False
    w.flags.writeable = False
    return z, w


def gaussian_mean(f: Callable[[jax.Array], jax.Array], q: jax.Array | float, n: int = 101) -> jax.Array:
    """E[f(√q z)] for z ~ N(0, 1), by Gauss–Hermite quadrature; broadcasts over q."""
    z, w = gauss_hermite(n)
    q = jnp.asarray(q)
    return jnp.sum(w * f(jnp.sqrt(q)[..., None] * z), axis=-1)


Z_MAX = 7.0  # the rule below covers |h| ≤ 7√q; the Gaussian mass outside is 2.6e-12
PANELS = 48
ORDER = 8


def gaussian_rule(q, breaks: tuple[float, ...] = (), panels: int = PANELS,
                  order: int = ORDER) -> tuple[jax.Array, jax.Array]:
    """Nodes h and weights w with Σ w f(h) ≈ E[f(h)], h ~ N(0, q), for f smooth between ``breaks``.

    Composite Gauss–Legendre in z = h/√q: |z| ≤ ``Z_MAX`` cut into ``panels`` equal panels,
    plus a panel edge at each break b/√q that falls inside (a kink of φ′, see :func:`kinks`),
    ``order`` nodes per panel, weights ∝ e^{−z²/2} normalised to sum to one. Unlike
    Gauss–Hermite it stays accurate when f varies on a scale much finer than √q (tanh′ at
    q = 30) and across kinks (SELU′ at 0). Broadcasts over ``q``; the rule lives on the last
    axis, (panels + len(breaks)) × order nodes.
    """
    t, wt = np.polynomial.legendre.leggauss(order)
    q = jnp.asarray(q)
    root = jnp.sqrt(q)[..., None]
    edges = [jnp.broadcast_to(jnp.linspace(-Z_MAX, Z_MAX, panels + 1), root.shape[:-1] + (panels + 1,))]
    for b in breaks:
        cut = jnp.where(root > 0, b / jnp.where(root > 0, root, 1.0), math.copysign(Z_MAX, b))
        edges.append(jnp.clip(cut, -Z_MAX, Z_MAX))
    edges = jnp.sort(jnp.concatenate(edges, axis=-1), axis=-1)
    lo, hi = edges[..., :-1, None], edges[..., 1:, None]
    z = 0.5 * (lo + hi) + 0.5 * (hi - lo) * t
    w = 0.5 * (hi - lo) * wt * jnp.exp(-0.5 * z ** 2)
    z, w = z.reshape(z.shape[:-2] + (-1,)), w.reshape(w.shape[:-2] + (-1,))
    return root * z, w / jnp.sum(w, axis=-1, keepdims=True)
