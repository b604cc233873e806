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
that :mod:`neurotheory.meanfield` understands (a name or a callable). :func:`s_transform`
returns one layer's S-transform itself, S_{D²}(z) S_{WWᵀ}(z).

Universality (Pennington, Schoenholz & Ganguli 2018). With orthogonal weights on the
critical line, S_{JJᵀ}(z) = (χ S_{D²}(z))^L and χ S_{D²}(z) = 1 − s₁ z + O(z²) with
s₁ = μ₂/μ₁² − 1. Choosing q* for each depth so that L s₁ = σ² stays fixed
(:func:`universal_scaling`) drives q* → 0, and the spectrum converges to a limit that
depends on φ only through its class (:func:`universality_class`):

    smooth φ, φ(0) = 0, φ′(0) ≠ 0 (tanh, erf, sin, swish):   S(z) = e^{−σ² z}
    φ′ ∈ {0, c} (hard-tanh, shifted ReLU):                     S(z) = e^{−σ² z/(1 + z)}

(:func:`limiting_density`, :func:`limiting_moments`, :func:`limiting_atoms`). Gaussian
weights (variance ≥ L), ReLU and SELU (s₁ does not vanish as q* → 0) and φ(0) ≠ 0
(σ_b² < 0 near q* = 0) have no such limit.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from neurotheory import checks, meanfield, nonlinearities, runtime
from neurotheory.meanfield import Phi, in_float64

WEIGHTS = ("gaussian", "orthogonal")
CLASSES = ("smooth", "bernoulli")
NEWTON_STEPS = 4
HEIGHTS_PER_DECADE = 8
ETA = 1e-7  # the density is evaluated at x(1 + iη), a hair above the real axis
Q_SMALL = 1e-8  # where universality_class reads the law of φ′² as q* → 0
PIECEWISE_SLOPES = 8  # φ′² with at most this many distinct values counts as piecewise linear


def _check_common(phi, depth, sigma_w, sigma_b, weights) -> None:
    if not callable(phi) and not isinstance(phi, str):
        raise TypeError(f"phi must be a nonlinearity name or a callable, got {type(phi).__name__}")
    nonlinearities.get(phi)
    checks.integer("depth", depth)
    checks.number("sigma_w", sigma_w)
    checks.number("sigma_b", sigma_b, allow_zero=True)
    if weights not in WEIGHTS:
        raise ValueError(f"weights={weights!r} is not one of {WEIGHTS}")


def _fixed_point(phi, sigma_w, sigma_b, q_star) -> float:
    """q* of the length map: ``q_star`` if given (checked), else :func:`meanfield.q_star`."""
    if q_star is None:
        return float(meanfield.q_star(phi, sigma_w, sigma_b))
    q = checks.number("q_star", q_star)
    mapped = float(meanfield.length_map(phi, q, sigma_w, sigma_b))
    if abs(mapped - q) > 1e-6 * q:
        raise ValueError(f"q_star={q:g} is not a fixed point of the length map at sigma_w={sigma_w:g}, "
                         f"sigma_b={sigma_b:g} (it maps to {mapped:.6g})")
    return q


def _law(phi, sigma_w, sigma_b, q_star=None) -> tuple[np.ndarray, np.ndarray]:
    """The law (y_i, π_i) of φ′(h)², h ~ N(0, q*), equal values merged.

    See :func:`neurotheory.meanfield.derivative_law`; ``q_star`` picks the fixed point
    where the length map has several (swish), the first one by default.
    """
    q = _fixed_point(phi, sigma_w, sigma_b, q_star)
    values, probs = meanfield.derivative_law(phi, q)
    values, index = np.unique(np.asarray(values, dtype=float), return_inverse=True)
    return values, np.bincount(index.ravel(), weights=np.asarray(probs, dtype=float).ravel())


def _nonzero_law(phi, sigma_w, sigma_b, q_star=None) -> tuple[np.ndarray, np.ndarray]:
    """The law of φ′(h)² without its atom at zero (which the S-transform equations never see)."""
    values, probs = _law(phi, sigma_w, sigma_b, q_star)
    keep = values > 0
    return values[keep], probs[keep]


@in_float64
def atoms(phi: Phi, depth: int, sigma_w: float, sigma_b: float, weights: str, *,
          q_star: float | None = None) -> list[tuple[float, float]]:
    """Atoms (location, mass) of the spectrum of J Jᵀ; the density of :func:`jacobian_density` is the rest.

    At zero: mass P(φ′(h) = 0), h ~ N(0, q*). An atom at zero of a free product is the
    largest atom of its factors; W Wᵀ has none, so it is the same for every depth and both
    weight laws (1/2 for ReLU, erfc(1/√(2q*)) for hard-tanh, none for tanh and erf).

    At the top, for orthogonal weights and φ′² ∈ {0, c} (linear, ReLU, hard-tanh, shifted
    ReLU; c = 1): J Jᵀ equals (σ_w² c)^L on the intersection of L subspaces in general
    position, each of codimension 1 − p, so it has an atom there of mass max(0, 1 − L(1 − p))
    (large for hard-tanh at small q*, where p = erf(1/√(2q*)) ≈ 1: the spectrum piles up at
    σ_w^{2L}). ``q_star`` as in :func:`jacobian_density`.
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    values, probs = _law(phi, sigma_w, sigma_b, q_star)
    found = []
    zero = float(np.sum(probs[values == 0.0]))
    if zero > 0:
        found.append((0.0, zero))
    nonzero = values[(values > 0) & (probs > 0)]
    if weights == "orthogonal" and nonzero.size == 1:
        top = max(0.0, 1.0 - depth * zero)
        if top > 0:
            found.append((float(sigma_w) ** (2 * depth) * float(nonzero[0]) ** depth, top))
    return found


def atom_mask(eigenvalues, found: Sequence[tuple[float, float]]) -> np.ndarray:
    """True for the sampled eigenvalues that sit in one of the atoms ``found`` (from :func:`atoms`).

    Within 10⁻⁴ relative of a location, or, for the atom at zero, within float32 round-off
    (10⁻¹⁰ of the largest eigenvalue). Histograms drawn under :func:`jacobian_density` leave
    these out, as the density does.
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    mask = np.zeros(eigenvalues.shape, bool)
    for location, _ in found:
        tolerance = 1e-4 * location if location > 0 else 1e-10 * eigenvalues.max()
        mask |= np.abs(eigenvalues - location) <= tolerance
    return mask


def _m_d2(w, y, p):
    """M_{D²}(w) = Σ_i π_i y_i w / (1 − y_i w) and its derivative in w."""
    r = 1.0 / (1.0 - y * w[..., None])
    return jnp.sum(p * y * w[..., None] * r, axis=-1), jnp.sum(p * y * r ** 2, axis=-1)


def _wrap(r):
    """r with its imaginary part wrapped to (−π, π]: the branch of a log residual."""
    return r - 2j * jnp.pi * jnp.round(r.imag / (2.0 * jnp.pi))


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
    return _wrap(value - log_z), slope, m


def _limit_residual(u, log_z, variance, bernoulli):
    """log M⁻¹(m) − log z with m = e^u, M⁻¹(m) = m/(1 + m) S(m), for the limiting S, and d/du."""
    m = jnp.exp(u)
    g = jnp.where(bernoulli, m / (1.0 + m), m)
    dg = jnp.where(bernoulli, 1.0 / (1.0 + m) ** 2, 1.0)
    value = u - jnp.log1p(m) - variance * g
    slope = 1.0 - m / (1.0 + m) - variance * dg * m
    return _wrap(value - log_z), slope, m


@functools.partial(jax.jit, static_argnames=("residual", "heights"))
def _solve_points(x, params, start, top, residual, heights):
    """m = M_{JJᵀ}(1/ζ) at ζ = x(1 + iη) for each x, each reached by its own vertical path.

    ``residual(u, log z, *params)`` is log M⁻¹ − log z in the unknown u (log w for a finite
    network, log m for the limit). The path descends from ζ = x + iY (Y ≫ the spectrum, where
    e^u ≈ start/ζ) to x(1 + iη) in ``heights`` geometric steps. G is analytic off the real
    axis, so continuing the root along this path lands on the physical branch wherever x is
    (inside the bulk or not).
    """

    def newton(u, _, log_z):
        r, slope, _m = residual(u, log_z, *params)
        step = r / slope
        step = jnp.where(jnp.abs(step) > 0.5, 0.5 * step / jnp.abs(step), step)
        return u - step, None

    def at(u, zeta):
        log_z = -jnp.log(zeta)
        u, _ = jax.lax.scan(functools.partial(newton, log_z=log_z), u, None, length=NEWTON_STEPS)
        return u, None

    def one(x):
        path = x + 1j * jnp.geomspace(top, ETA * x, heights)
        u0 = jnp.log(start / path[0])
        u, _ = jax.lax.scan(at, u0, path)
        zeta = path[-1]
        return zeta, residual(u, -jnp.log(zeta), *params)[2]

    return jax.vmap(one)(x)


def _density(x, params, start, top, residual, found) -> np.ndarray:
    """ρ(x) = −Im G(ζ)/π with G = (1 + m)/ζ minus the atoms ``found``; zero for x ≤ 0."""
    x = _check_grid(x)
    positive = x > 0
    density = np.zeros_like(x)
    if not positive.any():
        return density
    top = 100.0 * max(x.max(), top)
    decades = np.log10(top / (ETA * x[positive].min()))
    zeta, m = (np.asarray(a) for a in _solve_points(
        jnp.asarray(x[positive]), params, start, top, residual=residual, heights=_heights(decades)))
    stieltjes = (1.0 + m) / zeta
    for location, mass in found:
        stieltjes = stieltjes - mass / (zeta - location)
    density[positive] = np.maximum(-np.imag(stieltjes) / np.pi, 0.0)
    if not np.all(np.isfinite(density)):
        raise FloatingPointError("the density solver did not converge; try a finer or shorter grid x")
    return density


def _check_grid(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x has NaN or infinite values")
    return x


@in_float64
def jacobian_moments(phi: Phi, depth: int, sigma_w: float, sigma_b: float, weights: str, k: int, *,
                     q_star: float | None = None) -> np.ndarray:
    """The first ``k`` moments m_1, …, m_k of the spectrum of J Jᵀ.

    Power-series form of the S-transform product: with μ_j = E[φ′(h)^{2j}] and
    M_{D²}(w) = Σ μ_j w^j, the series z(w) of the module docstring is inverted and composed,
    M_{JJᵀ}(z) = M_{D²}(w(z)) = Σ m_k z^k. Closed forms it reproduces: m_1 = χ^L and
    var/m_1² = L (μ_2/μ_1² − 1) for orthogonal weights, L μ_2/μ_1² for Gaussian.
    ``q_star`` as in :func:`jacobian_density`.
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    k = checks.integer("k", k)
    values, probs = _law(phi, sigma_w, sigma_b, q_star)
    mu = np.array([np.sum(probs * values ** j) for j in range(1, k + 1)])
    ratio = _series_reciprocal(mu)                       # w / M_{D²}(w)
    m_series = np.concatenate([[0.0], mu])[: k + 1]      # M_{D²}(w)
    one_plus_m = m_series + np.eye(1, k + 1)[0]
    b = _series_power(ratio / sigma_w ** 2, depth - 1.0) / sigma_w ** 2  # (1/χ)^{L−1}: no overflow
    if weights == "gaussian":
        b = _series_mul(b, _series_reciprocal(one_plus_m))
    else:
        b = _series_mul(b, _series_power(one_plus_m, depth - 1.0))
    return _series_compose(m_series, _revert(b))[1:]


def _revert(b: np.ndarray) -> np.ndarray:
    """w(z) = Σ_{n ≤ len(b)} w_n z^n solving z = w b(w) (b(0) ≠ 0), by iterating w = z / b(w)."""
    k = len(b)
    inverse_b = _series_reciprocal(b)
    w = np.zeros(k + 1)
    for _ in range(k):
        w = np.concatenate([[0.0], _series_compose(inverse_b, w)[:k]])
    return w


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
def jacobian_density(phi: Phi, depth: int, sigma_w: float, sigma_b: float, weights: str, x, *,
                     q_star: float | None = None) -> np.ndarray:
    """Density ρ(x) of the eigenvalues of J Jᵀ at the points ``x``.

    Solves the S-transform equation of the module docstring at z = 1/ζ, ζ = x(1 + iη) just
    above the real axis (η = ``ETA`` = 10⁻⁷), each point reached by its own vertical path
    from far above the spectrum, and returns ρ(x) = −Im G(ζ)/π with
    G(ζ) = (1 + M_{JJᵀ}(1/ζ))/ζ − Σ_atoms mass/(ζ − location); zero for x ≤ 0. The atoms
    (:func:`atoms`) are subtracted, so ∫ρ dx + Σ atom masses = 1. ``q_star`` is the fixed
    point of the length map the layers sit at, where it has several (swish); by default
    :func:`neurotheory.meanfield.q_star`.
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    y, p = _nonzero_law(phi, sigma_w, sigma_b, q_star)
    m1, m2 = jacobian_moments(phi, depth, sigma_w, sigma_b, weights, 2, q_star=q_star)
    params = (jnp.asarray(y), jnp.asarray(p), float(sigma_w), float(depth), weights == "gaussian")
    return _density(x, params, m1 / np.sum(p * y), m2 / m1, _residual,
                    atoms(phi, depth, sigma_w, sigma_b, weights, q_star=q_star))


@in_float64
def s_transform(phi: Phi, sigma_w: float, sigma_b: float, weights: str, *,
                q_star: float | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """One layer's S-transform S(z) = S_{D²}(z) S_{WWᵀ}(z), so that S_{JJᵀ} = S^L.

    S_{D²}(z) = (1 + z)/z · M_{D²}⁻¹(z) from the law of φ′(h)² at q* (module docstring), with
    M_{D²}(w) = Σ π_i y_i w/(1 − y_i w) inverted by bisection on w < 1/max y_i; S_{WWᵀ} is
    σ_w⁻² (orthogonal) or 1/(σ_w²(1 + z)) (Gaussian). The returned function takes real z in
    (−P(φ′ ≠ 0), ∞) (the range of M_{D²}), vectorized, and returns an array shaped like z;
    at z = 0, where (1 + z)/z · M⁻¹(z) is 0/0, it returns the limit 1/(σ_w² μ₁) = 1/χ.
    """
    _check_common(phi, 1, sigma_w, sigma_b, weights)
    y, p = (jnp.asarray(a) for a in _nonzero_law(phi, sigma_w, sigma_b, q_star))
    lowest = -float(jnp.sum(p))
    mu1 = float(jnp.sum(p * y))

    def transform(z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if not np.all(np.isfinite(z)) or np.any(z <= lowest):
            raise ValueError(f"z must be finite and above −P(φ′ ≠ 0) = {lowest:.6g}, got {z!r}")
        with runtime.float64():
            w = np.asarray(_m_d2_inverse(jnp.asarray(z), y, p))
        safe = np.where(z == 0, 1.0, z)
        s_d2 = np.where(z == 0, 1.0 / mu1, (1.0 + z) / safe * w)
        s_w = sigma_w ** -2.0 / (1.0 + z if weights == "gaussian" else 1.0)
        return s_d2 * s_w

    return transform


@jax.jit
def _m_d2_inverse(z, y, p):
    """w with M_{D²}(w) = z, by bisection in s where w = (1 − e^s)/max y (M falls as s rises)."""
    top = jnp.max(y)

    def step(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = _m_d2(-jnp.expm1(mid) / top, y, p)[0] > z
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 200, step, (jnp.full_like(z, -36.0), jnp.full_like(z, 40.0)))
    return -jnp.expm1(0.5 * (lo + hi)) / top


@in_float64
def universality_class(phi: Phi, weights: str = "orthogonal") -> str:
    """``"smooth"`` or ``"bernoulli"``: the depth → ∞ limit J Jᵀ reaches under :func:`universal_scaling`.

    Read off the law of φ′(h)² at q = 1: ``"bernoulli"`` when φ′² takes one non-zero value
    (φ′ ∈ {0, c}, with φ′ = c around 0: hard-tanh, a shifted ReLU), ``"smooth"`` when it takes
    many (φ smooth with φ′(0) ≠ 0). Raises ValueError, saying why, where there is no limit
    of these two kinds: a piecewise-linear φ with several non-zero slopes (a leaky
    hard-tanh); Gaussian weights (S_{WWᵀ} = 1/(σ_w²(1 + z)) adds L to the variance); φ(0) ≠ 0 (the critical line needs σ_b² = q* − σ_w² E[φ²] ≥ 0, so q* cannot shrink to
    0); μ₂/μ₁² − 1 not vanishing as q* → 0 (ReLU, SELU: φ′ jumps or vanishes at 0); and
    μ₂ = μ₁² at every q* (linear: the spectrum is one atom at any depth).
    """
    meanfield._check_phi(phi)
    if weights not in WEIGHTS:
        raise ValueError(f"weights={weights!r} is not one of {WEIGHTS}")
    if weights == "gaussian":
        raise ValueError("Gaussian weights have no depth → ∞ limit: S_WWᵀ = 1/(σ_w²(1 + z)) adds 1 per "
                         "layer to the variance of J Jᵀ, so the spectrum spreads without bound")
    at_zero = float(nonlinearities.get(phi)(jnp.zeros(())))
    if abs(at_zero) > 1e-12:
        raise ValueError(f"phi(0) = {at_zero:.3g} is not 0: the critical line needs σ_b² = q* − σ_w² E[φ²] ≥ 0, "
                         "so q* cannot shrink to 0 and μ₂/μ₁² − 1 cannot vanish")
    floor = float(_spread(phi, Q_SMALL))
    if floor > 1e-6:
        raise ValueError(f"μ₂/μ₁² − 1 of φ′² stays at {floor:.3g} as q* → 0 (φ′ jumps or "
                         "vanishes at 0), so L(μ₂/μ₁² − 1) grows with depth: no limit")
    if _spread(phi, 1.0) < 1e-12:
        raise ValueError("μ₂ = μ₁² at every q* (φ′² takes one value): the spectrum is a single atom at any "
                         "depth, with no family of variance σ² > 0")
    values, probs = meanfield.derivative_law(phi, 1.0)
    slopes = np.unique(np.asarray(values)[(np.asarray(probs) > 0) & (np.asarray(values) > 0)])
    if slopes.size == 1:
        return "bernoulli"
    if slopes.size <= PIECEWISE_SLOPES:
        raise ValueError(f"φ′² takes {slopes.size} non-zero values (a piecewise-linear φ with several slopes): "
                         "its rare jumps between slopes give a limit outside the two classes drawn here")
    return "smooth"


def _spread(phi: Phi, q):
    """μ₂/μ₁² − 1 of φ′(h)², h ~ N(0, q): the variance one layer adds to J Jᵀ (orthogonal, χ = 1)."""
    return meanfield.derivative_moment(phi, q, 2) / meanfield.derivative_moment(phi, q, 1) ** 2 - 1.0


@in_float64
def universal_scaling(phi: Phi, depth: int, variance: float) -> tuple[float, float, float]:
    """(q*, σ_w, σ_b) on the critical line with L (μ₂/μ₁² − 1) = σ² (= ``variance``).

    μ_k are the moments of φ′(h)², h ~ N(0, q*), so this fixes the variance of J Jᵀ at σ²
    for orthogonal weights at every depth, and q* → 0 as L grows. The smallest such q* is
    found on a log grid and refined by bisection; (σ_w, σ_b) = :func:`meanfield.critical_line`.
    """
    universality_class(phi)
    depth = checks.integer("depth", depth)
    variance = checks.number("variance", variance)
    target = variance / depth
    grid = np.geomspace(1e-12, 1e4, 321)
    spread = np.asarray(_spread(phi, grid))
    above = np.flatnonzero(spread >= target)
    if above.size == 0:
        raise ValueError(f"variance={variance:g} needs μ₂/μ₁² − 1 = {target:.3g} per layer at depth {depth}, "
                         f"more than {phi} reaches ({spread.max():.3g}); lower variance or raise depth")
    if above[0] == 0:
        raise ValueError(f"variance={variance:g} at depth {depth} needs q* below {grid[0]:g}; raise variance")
    lo, hi = np.log(grid[above[0] - 1]), np.log(grid[above[0]])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(_spread(phi, np.exp(mid))) < target else (lo, mid)
    q = float(np.exp(0.5 * (lo + hi)))
    sigma_w, sigma_b = meanfield.critical_line(phi, q)
    return q, float(sigma_w), float(sigma_b)


def _limit(phi, weights, variance) -> tuple[bool, float]:
    bernoulli = universality_class(phi, weights) == "bernoulli"
    return bernoulli, checks.number("variance", variance)


@in_float64
def limiting_moments(phi: Phi, k: int, *, weights: str = "orthogonal", variance: float) -> np.ndarray:
    """m_1, …, m_k of the depth → ∞ limit: M(z) solves z = M/(1 + M) · S(M).

    S(z) = e^{−σ² z} (smooth class) gives m₂ = 1 + σ², m₃ = 1 + 3σ² + 3σ⁴/2;
    S(z) = e^{−σ² z/(1 + z)} (Bernoulli) gives m₂ = 1 + σ², m₃ = 1 + 2σ² + 3σ⁴/2.
    """
    bernoulli, variance = _limit(phi, weights, variance)
    k = checks.integer("k", k)
    exponent = -variance * np.eye(1, k, 1)[0]                            # −σ² z
    if bernoulli:
        exponent = -variance * np.concatenate([[0.0], (-1.0) ** np.arange(k - 1)])  # −σ² z/(1 + z)
    exp_series = 1.0 / np.array([float(math.factorial(n)) for n in range(k)])
    s_series = _series_compose(exp_series, exponent)                     # S(z), k terms
    one_plus_z = np.eye(1, k)[0] + np.eye(1, k, 1)[0]
    return _revert(_series_mul(s_series, _series_reciprocal(one_plus_z)))[1:]


@in_float64
def limiting_atoms(phi: Phi, *, weights: str = "orthogonal", variance: float) -> list[tuple[float, float]]:
    """Atoms of the limit: the Bernoulli class keeps one at e^{σ²} of mass 1 − σ² while σ² < 1.

    It is the limit of the top atom of :func:`atoms`, (1/p)^L with mass 1 − L(1 − p), as
    L(1/p − 1) → σ². The smooth class has none.
    """
    bernoulli, variance = _limit(phi, weights, variance)
    return [(float(np.exp(variance)), 1.0 - variance)] if bernoulli and variance < 1 else []


@in_float64
def limiting_density(phi: Phi, x, *, weights: str = "orthogonal", variance: float) -> np.ndarray:
    """Density of the depth → ∞ limit of J Jᵀ under :func:`universal_scaling`, atoms excluded.

    Solves 1/ζ = M⁻¹(m) = m/(1 + m) · S(m) for m = M(1/ζ) at ζ = x(1 + iη), with
    S(m) = e^{−σ² m} or e^{−σ² m/(1 + m)} by :func:`universality_class`, along the same
    vertical paths as :func:`jacobian_density`; ρ = −Im G/π, G = (1 + m)/ζ minus
    :func:`limiting_atoms`. σ² is lim L(μ₂/μ₁² − 1), the limit's variance. Raises ValueError
    where there is no limit (Gaussian weights, ReLU, SELU, φ(0) ≠ 0), saying why.
    """
    bernoulli, variance = _limit(phi, weights, variance)
    return _density(x, (variance, bernoulli), 1.0, 1.0 + variance, _limit_residual,
                    limiting_atoms(phi, weights=weights, variance=variance))


def _heights(decades: float) -> int:
    """Steps of the vertical path: HEIGHTS_PER_DECADE per decade, in a few sizes (each size compiles once)."""
    return int(2 ** np.ceil(np.log2(max(HEIGHTS_PER_DECADE * decades, 256))))


def _layer_weights(key: jax.Array, width: int, sigma_w: float, orthogonal: bool) -> jax.Array:
    if orthogonal:
        return sigma_w * jax.random.orthogonal(key, width)
    return sigma_w / jnp.sqrt(width) * jax.random.normal(key, (width, width))


@functools.partial(jax.jit, static_argnames=("width", "orthogonal", "custom"))
def _sample(keys, phi_index, depth, width, sigma_w, sigma_b, q, orthogonal, custom=None):
    phis = [nonlinearities.get(name) for name in nonlinearities.NAMES]
    dphis = [nonlinearities.derivative(name) for name in nonlinearities.NAMES]

    def f(h):
        return custom(h) if custom is not None else jax.lax.switch(phi_index, phis, h)

    def dphi(h):
        if custom is not None:
            return nonlinearities.derivative(custom)(h)
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
                                weights: str, seed: int | Sequence[int], *,
                                q_star: float | None = None) -> np.ndarray:
    """Eigenvalues of J Jᵀ for random networks of ``depth`` layers of ``width`` units.

    Weights W_ij ~ N(0, σ_w²/N) or σ_w × Haar orthogonal, biases b_i ~ N(0, σ_b²); the input
    is x⁰ = φ(h⁰) with h⁰_i ~ N(0, q*), so every layer's pre-activations sit at the fixed
    point q* (``q_star`` as in :func:`jacobian_density`). J = D^L W^L ⋯ D^1 W^1 is built
    layer by layer in a ``lax.fori_loop`` (one compilation serves every depth); the
    eigenvalues are its squared singular values (float32). One network per seed: an integer
    ``seed`` gives shape (width,), a sequence of seeds (networks run together under ``vmap``)
    gives (len(seed), width). One compilation serves every named nonlinearity and depth,
    per width and weight law; a callable ``phi`` compiles once per function object.
    """
    _check_common(phi, depth, sigma_w, sigma_b, weights)
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 2:
        raise ValueError(f"width must be an integer of at least 2, got {width!r}")
    single = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    seeds = [seed] if single else list(seed) if isinstance(seed, Sequence) else None
    if not seeds:
        raise TypeError(f"seed must be an integer or a non-empty sequence of integers, got {seed!r}")
    keys = jnp.stack([runtime.key(s) for s in seeds])
    q = _fixed_point(phi, sigma_w, sigma_b, q_star)
    named = isinstance(phi, str)
    eigenvalues = np.asarray(_sample(keys, nonlinearities.NAMES.index(phi) if named else 0, int(depth),
                                     int(width), float(sigma_w), float(sigma_b), q, weights == "orthogonal",
                                     custom=None if named else phi), dtype=float)
    return eigenvalues[0] if single else eigenvalues
