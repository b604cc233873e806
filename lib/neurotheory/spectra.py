"""Spectrum of the input–output Jacobian of a deep random network, by free probability.

For h^l = W^l φ(h^{l−1}) + b^l the Jacobian of the output with respect to the input is

    J = D^L W^L ⋯ D^1 W^1,      D^l = diag(φ′(h^l)),

and at large width, with every layer's pre-activations at the fixed point q* of the length
map, the factors are asymptotically free. Pennington, Schoenholz & Ganguli (2017)
multiply S-transforms:

    S_{JJᵀ}(z) = S_{WWᵀ}(z)^L · S_{D²}(z)^L,
    S_{WWᵀ}(z) = 1 / (σ_w² (1 + z))  (Gaussian),     S_{WWᵀ}(z) = σ_w⁻²  (orthogonal),
    S_{D²}(z) = (1 + z)/z · M_{D²}⁻¹(z),   M_{D²}(w) = E[w φ′(h)² / (1 − w φ′(h)²)],

with S_X(z) = (1 + z)/z · M_X⁻¹(z) and M_X(z) = Σ_k m_k z^k the moment-generating function.
Writing m = M_{JJᵀ}(z) and w = M_{D²}⁻¹(m), the eigenvalue density comes from one equation in w:

    orthogonal:  z = σ_w^{−2L} w^L ((1 + m)/m)^{L−1},    Gaussian:  z = σ_w^{−2L} w^L m^{1−L} / (1 + m),

solved at z = 1/ζ for ζ just above each point x (Newton's method in log w, continued down a
vertical path from far above the real axis, where w → 0). Then G(ζ) = (1 + m)/ζ is the
Stieltjes transform and the density is ρ(x) = −Im G(ζ)/π. Atoms (at zero where φ′ = 0 with
positive probability, as for ReLU and hard-tanh; at σ_w^{2L} for orthogonal weights and
φ′ ∈ {0, 1}) come from :func:`atoms`; the density excludes them.

The nonlinearity enters only through the law of φ′(h)², so everything here works for any φ
that :mod:`neurotheory.meanfield` understands (a name or a callable).
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from neurotheory import checks, meanfield, nonlinearities, runtime
from neurotheory.meanfield import Phi, in_float64

WEIGHTS = ("gaussian", "orthogonal")
NEWTON_STEPS = 4
HEIGHTS_PER_DECADE = 8
LAW_NODES = 96  # Gauss–Hermite nodes for the law of φ′(h)² of a smooth φ
ETA = 1e-7  # the density is evaluated at x(1 + iη), a hair above the real axis


def _check_common(phi, depth, sigma_w, sigma_b, weights) -> None:
    if not callable(phi) and not isinstance(phi, str):
        raise TypeError(f"phi must be a nonlinearity name or a callable, got {type(phi).__name__}")
    nonlinearities.get(phi)
    checks.integer("depth", depth)
    checks.number("sigma_w", sigma_w)
    checks.number("sigma_b", sigma_b, allow_zero=True)
    if weights not in WEIGHTS:
        raise ValueError(f"weights={weights!r} is not one of {WEIGHTS}")


def _law(phi, sigma_w, sigma_b) -> tuple[np.ndarray, np.ndarray]:
    """The law (y_i, π_i) of φ′(h)², h ~ N(0, q*) (see :func:`neurotheory.meanfield.derivative_law`)."""
    q = float(meanfield.q_star(phi, sigma_w, sigma_b))
    values, probs = meanfield.derivative_law(phi, q, LAW_NODES)
    return np.asarray(values, dtype=float), np.asarray(probs, dtype=float)


@in_float64
def atoms(phi: Phi, depth: int, sigma_w: float, sigma_b: float, weights: str) -> list[tuple[float, float]]:
    """Atoms (location, mass) of the spectrum of J Jᵀ; the density of :func:`jacobian_density` is the rest.

    At zero: mass P(φ′(h) = 0), h ~ N(0, q*). An atom at zero of a free product is the
    largest atom of its factors; W Wᵀ has none, so it is the same for every depth and both
    weight laws (1/2 for ReLU, erfc(1/√(2q*)) for hard-tanh, none for tanh and erf).

    At the top, for orthogonal weights and φ′ ∈ {0, 1} (linear, ReLU, hard-tanh): J Jᵀ equals
    σ_w^{2L} on the intersection of L subspaces in general position, each of codimension
    1 − p, so it has an atom there of mass max(0, 1 − L(1 − p)) (large for hard-tanh at
    small q*, where p = erf(1/√(2q*)) ≈ 1: the spectrum piles up at σ_w^{2L}).
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    values, probs = _law(phi, sigma_w, sigma_b)
    found = []
    zero = float(np.sum(probs[values == 0.0]))
    if zero > 0:
        found.append((0.0, zero))
    if weights == "orthogonal" and phi in ("linear", "relu", "hard_tanh"):
        top = max(0.0, 1.0 - depth * (1.0 - float(np.sum(probs[values == 1.0]))))
        if top > 0:
            found.append((float(sigma_w) ** (2 * depth), top))
    return found


def _m_d2(w, y, p):
    """M_{D²}(w) = Σ_i π_i y_i w / (1 − y_i w) and its derivative in w."""
    r = 1.0 / (1.0 - y * w[..., None])
    return jnp.sum(p * y * w[..., None] * r, axis=-1), jnp.sum(p * y * r ** 2, axis=-1)


def _residual(u, log_z, y, p, sigma_w, depth, gaussian):
    """log z(w) − log z with w = e^u, wrapped to Im ∈ (−π, π], and its derivative in u."""
    w = jnp.exp(u)
    m, dm = _m_d2(w, y, p)
    dm_du = dm * w
    base = -depth * jnp.log(sigma_w ** 2) + depth * u
    value = jnp.where(gaussian, base + (1.0 - depth) * jnp.log(m) - jnp.log1p(m),
                      base + (depth - 1.0) * (jnp.log1p(m) - jnp.log(m)))
    slope = depth + jnp.where(gaussian, (1.0 - depth) / m - 1.0 / (1.0 + m),
                              (depth - 1.0) * (1.0 / (1.0 + m) - 1.0 / m)) * dm_du
    r = value - log_z
    r = r - 2j * jnp.pi * jnp.round(r.imag / (2.0 * jnp.pi))
    return r, slope, m


@functools.partial(jax.jit, static_argnames="heights")
def _solve_points(x, y, p, sigma_w, depth, top, mean_over_mu1, gaussian, heights):
    """m = M_{JJᵀ}(1/ζ) at ζ = x(1 + iη) for each x, each reached by its own vertical path.

    The path descends from ζ = x + iY (Y ≫ the spectrum, where w ≈ m_1/(μ_1 ζ)) to x(1 + iη)
    in ``heights`` geometric steps. G is analytic off the real axis, so continuing the root
    along this path lands on the physical branch wherever x is (inside the bulk or not).
    """

    def newton(u, _, log_z):
        r, slope, _m = _residual(u, log_z, y, p, sigma_w, depth, gaussian)
        step = r / slope
        step = jnp.where(jnp.abs(step) > 0.5, 0.5 * step / jnp.abs(step), step)
        return u - step, None

    def at(u, zeta):
        log_z = -jnp.log(zeta)
        u, _ = jax.lax.scan(functools.partial(newton, log_z=log_z), u, None, length=NEWTON_STEPS)
        return u, None

    def one(x):
        path = x + 1j * jnp.geomspace(top, ETA * x, heights)
        u0 = jnp.log(mean_over_mu1 / path[0])
        u, _ = jax.lax.scan(at, u0, path)
        zeta = path[-1]
        return zeta, _residual(u, -jnp.log(zeta), y, p, sigma_w, depth, gaussian)[2]

    return jax.vmap(one)(x)


@in_float64
def jacobian_moments(phi: Phi, depth: int, sigma_w: float, sigma_b: float, weights: str, k: int) -> np.ndarray:
    """The first ``k`` moments m_1, …, m_k of the spectrum of J Jᵀ.

    Power-series form of the S-transform product: with μ_j = E[φ′(h)^{2j}] and
    M_{D²}(w) = Σ μ_j w^j, the series z(w) of the module docstring is inverted and composed,
    M_{JJᵀ}(z) = M_{D²}(w(z)) = Σ m_k z^k. Closed forms it reproduces: m_1 = χ^L and
    var/m_1² = L (μ_2/μ_1² − 1) for orthogonal weights, L μ_2/μ_1² for Gaussian.
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    k = checks.integer("k", k)
    values, probs = _law(phi, sigma_w, sigma_b)
    mu = np.array([np.sum(probs * values ** j) for j in range(1, k + 1)])
    ratio = _series_reciprocal(mu)                       # w / M_{D²}(w)
    m_series = np.concatenate([[0.0], mu])[: k + 1]      # M_{D²}(w)
    one_plus_m = m_series + np.eye(1, k + 1)[0]
    b = _series_power(ratio, depth - 1.0) * sigma_w ** (-2.0 * depth)
    if weights == "gaussian":
        b = _series_mul(b, _series_reciprocal(one_plus_m))
    else:
        b = _series_mul(b, _series_power(one_plus_m, depth - 1.0))
    inverse_b = _series_reciprocal(b)
    w_of_z = np.zeros(k + 1)
    for _ in range(k):
        w_of_z = np.concatenate([[0.0], _series_compose(inverse_b, w_of_z)[:k]])
    return _series_compose(m_series, w_of_z)[1:]


def _series_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.convolve(a, b)[: len(a)]


def _series_reciprocal(a: np.ndarray) -> np.ndarray:
    out = np.zeros_like(a)
    out[0] = 1.0 / a[0]
    for n in range(1, len(a)):
        out[n] = -np.dot(a[1: n + 1], out[n - 1:: -1][:n]) / a[0]
    return out


def _series_power(a: np.ndarray, exponent: float) -> np.ndarray:
    """a(w)^exponent for a(0) > 0 (J. C. P. Miller's recurrence)."""
    out = np.zeros_like(a)
    out[0] = a[0] ** exponent
    for n in range(1, len(a)):
        j = np.arange(1, n + 1)
        out[n] = np.sum(((exponent + 1.0) * j - n) * a[j] * out[n - j]) / (n * a[0])
    return out


def _series_compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a(b(z)) for b(0) = 0, truncated to len(a) terms (Horner)."""
    out = np.zeros_like(a)
    out[0] = a[-1]
    for coefficient in a[-2::-1]:
        out = _series_mul(out, b)
        out[0] += coefficient
    return out


@in_float64
def jacobian_density(phi: Phi, depth: int, sigma_w: float, sigma_b: float, weights: str, x) -> np.ndarray:
    """Density ρ(x) of the eigenvalues of J Jᵀ at the points ``x``.

    Solves the S-transform equation of the module docstring at z = 1/ζ, ζ = x(1 + iη) just
    above the real axis (η = ``ETA`` = 10⁻⁷), each point reached by its own vertical path
    from far above the spectrum, and returns ρ(x) = −Im G(ζ)/π with
    G(ζ) = (1 + M_{JJᵀ}(1/ζ))/ζ − Σ_atoms mass/(ζ − location); zero for x ≤ 0. The atoms
    (:func:`atoms`) are subtracted, so ∫ρ dx + Σ atom masses = 1.
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x has NaN or infinite values")
    y, p = _law(phi, sigma_w, sigma_b)
    keep = y > 0
    y, p = y[keep], p[keep]
    positive = x > 0
    density = np.zeros_like(x)
    if not positive.any():
        return density
    m1, m2 = jacobian_moments(phi, depth, sigma_w, sigma_b, weights, 2)
    top = 100.0 * max(x.max(), m2 / m1)
    decades = np.log10(top / (ETA * x[positive].min()))
    zeta_grid, on_grid = (np.asarray(a) for a in _solve_points(
        jnp.asarray(x[positive]), jnp.asarray(y), jnp.asarray(p), float(sigma_w), float(depth), top,
        m1 / np.sum(p * y), gaussian=weights == "gaussian", heights=_heights(decades)))
    stieltjes = (1.0 + on_grid) / zeta_grid
    for location, mass in atoms(phi, depth, sigma_w, sigma_b, weights):
        stieltjes = stieltjes - mass / (zeta_grid - location)
    density[positive] = np.maximum(-np.imag(stieltjes) / np.pi, 0.0)
    if not np.all(np.isfinite(density)):
        raise FloatingPointError("the density solver did not converge; try a finer or shorter grid x")
    return density


def _heights(decades: float) -> int:
    """Steps of the vertical path: HEIGHTS_PER_DECADE per decade, in a few sizes (each size compiles once)."""
    return int(2 ** np.ceil(np.log2(max(HEIGHTS_PER_DECADE * decades, 256))))


def _layer_weights(key: jax.Array, width: int, sigma_w: float, orthogonal: bool) -> jax.Array:
    if orthogonal:
        return sigma_w * jax.random.orthogonal(key, width)
    return sigma_w / jnp.sqrt(width) * jax.random.normal(key, (width, width))


@functools.partial(jax.jit, static_argnames=("width", "orthogonal"))
def _sample(keys, phi_index, depth, width, sigma_w, sigma_b, q, orthogonal):
    phis = [nonlinearities.get(name) for name in nonlinearities.NAMES]
    dphis = [nonlinearities.derivative(name) for name in nonlinearities.NAMES]

    def f(h):
        return jax.lax.switch(phi_index, phis, h)

    def dphi(h):
        return jax.lax.switch(phi_index, dphis, h)

    def one(key):
        key_input, key_layers = jax.random.split(key)
        x0 = f(jnp.sqrt(q) * jax.random.normal(key_input, (width,)))

        def layer(l, carry):
            x, jac = carry
            key_w, key_b = jax.random.split(jax.random.fold_in(key_layers, l))
            w = _layer_weights(key_w, width, sigma_w, orthogonal)
            h = w @ x + sigma_b * jax.random.normal(key_b, (width,))
            return f(h), dphi(h)[:, None] * (w @ jac)

        _, jac = jax.lax.fori_loop(0, depth, layer, (x0, jnp.eye(width)))
        return jnp.linalg.svd(jac, compute_uv=False) ** 2

    return jax.vmap(one)(keys)


def sample_jacobian_eigenvalues(phi: Phi, depth: int, width: int, sigma_w: float, sigma_b: float,
                                weights: str, seed: int | Sequence[int]) -> np.ndarray:
    """Eigenvalues of J Jᵀ for random networks of ``depth`` layers of ``width`` units.

    Weights W_ij ~ N(0, σ_w²/N) or σ_w × Haar orthogonal, biases b_i ~ N(0, σ_b²); the input
    is x⁰ = φ(h⁰) with h⁰_i ~ N(0, q*), so every layer's pre-activations sit at the fixed
    point q*. J = D^L W^L ⋯ D^1 W^1 is built layer by layer in a ``lax.fori_loop`` (one
    compilation serves every depth); the
    eigenvalues are its squared singular values (float32). One network per seed: an integer
    ``seed`` gives shape (width,), a sequence of seeds (networks run together under ``vmap``)
    gives (len(seed), width). ``phi`` must be a name (one compilation serves every named
    nonlinearity and depth, per width and weight law).
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    if not isinstance(phi, str):
        raise TypeError("phi must be a nonlinearity name for sampling (it is a compile-time constant)")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 2:
        raise ValueError(f"width must be an integer of at least 2, got {width!r}")
    single = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    seeds = [seed] if single else list(seed) if isinstance(seed, Sequence) else None
    if not seeds:
        raise TypeError(f"seed must be an integer or a non-empty sequence of integers, got {seed!r}")
    keys = jnp.stack([runtime.key(s) for s in seeds])
    q = float(meanfield.q_star(phi, sigma_w, sigma_b))
    eigenvalues = np.asarray(_sample(keys, nonlinearities.NAMES.index(phi), int(depth), int(width), float(sigma_w),
                                     float(sigma_b), q, weights == "orthogonal"), dtype=float)
    return eigenvalues[0] if single else eigenvalues
