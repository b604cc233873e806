"""Pointwise nonlinearities φ by name, with their derivatives φ′, and Gaussian averages of them.

The names are the ones the widgets offer: ``linear``, ``tanh``, ``relu``, ``hard_tanh``,
``erf``, ``sigmoid``. A callable is accepted wherever a name is (its derivative comes from
``jax.grad``).
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

Phi = Callable[[jax.Array], jax.Array]

_PHI: dict[str, Phi] = {
    "linear": lambda h: h,
    "tanh": jnp.tanh,
    "relu": lambda h: jnp.maximum(h, 0.0),
    "hard_tanh": lambda h: jnp.clip(h, -1.0, 1.0),
    "erf": jax.scipy.special.erf,
    "sigmoid": jax.nn.sigmoid,
}

_DPHI: dict[str, Phi] = {
    "linear": jnp.ones_like,
    "tanh": lambda h: 1.0 - jnp.tanh(h) ** 2,
    "relu": lambda h: (h > 0).astype(h.dtype),
    "hard_tanh": lambda h: (jnp.abs(h) < 1.0).astype(h.dtype),
    "erf": lambda h: 2.0 / jnp.sqrt(jnp.pi) * jnp.exp(-h ** 2),
    "sigmoid": lambda h: jax.nn.sigmoid(h) * (1.0 - jax.nn.sigmoid(h)),
}

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
