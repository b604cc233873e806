"""Bayesian approximate message passing (AMP) for low-rank tensors, and its state evolution.

Kadmon & Ganguli, "Statistical mechanics of low-rank tensor decomposition" (NeurIPS 2018,
arXiv:1810.10065). An order-p tensor of shape (N₁, …, N_p) hides a rank-r signal in noise:

    T = λ Σ_ρ x¹_ρ ∘ x²_ρ ∘ … ∘ x^p_ρ + W,    λ = √snr / N^{(p−1)/2},    W iid N(0, 1),

with N = (∏ N_a)^{1/p} (the geometric mean) and n_a = N_a / N; the entries of the factors
X^a (N_a × r) are iid from a prior, one per mode:

    "gaussian"            N(0, 1)           ("gaussian", mu)   N(mu, 1)
    "rademacher"          ±1                ("sparse", rho)    0 w.p. 1 − rho, else N(0, 1/rho)

:func:`amp` estimates the posterior means of the factors, sweeping the modes in order. Mode a
receives a field B^a (N_a × r) and a precision A^a (r × r),

    B^a = λ T ×_{b≠a} X̂^b − Σ_{b≠a} X̂^a_(b) [λ² S^b ∘ ⊙_{c≠a,b} (X̂^{cᵀ} X̂^c_(b))]ᵀ,
    A^a = λ² ⊙_{b≠a} X̂^{bᵀ} X̂^b,

(X̂_(b): the estimates in use when mode b was last updated; S^b: the sum of mode b's posterior
covariances; the second term of B^a is the Onsager reaction), and replaces X̂^a by the exact
posterior mean of P(x) exp(Bᵀx − xᵀAx/2), row by row (:func:`denoise`). For p = 2 this is
B^u = λ T v̂ − λ² (Σ_j Var v_j) û, the order-2 AMP of LowRAMP.

:func:`state_evolution` predicts the overlaps m_a = x̂_aᵀ x_a / N_a of AMP at large N, rank 1:

    A^a = snr ∏_{b≠a} n_b m_b,     m_a ← E[x f_a(A^a, A^a x + √A^a z)],   z ~ N(0, 1),

and :func:`free_entropy` is Φ(m) = Σ_a n_a ψ_a(A^a) − (p − 1)/2 · snr ∏_a n_a m_a, with
ψ_a(A) = E log ∫ P_a(x) exp(x (A x₀ + √A z) − A x²/2) dx (so ψ′ = m/2). Its fixed points
give the easy, hard and impossible regimes (:func:`phase`).

Priors are mixtures of Gaussians (a point mass is a Gaussian of variance 0), so one exact
posterior formula serves all of them, for any rank.
"""

from __future__ import annotations

import functools
import itertools
import math
import string
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linear_sum_assignment

from neurotheory import checks, runtime
from neurotheory.meanfield import in_float64
from neurotheory.nonlinearities import gauss_hermite

PRIORS = ("gaussian", "rademacher", "sparse")
QUADRATURE_NODES = 161
"""Gauss–Hermite nodes per mixture component in the state-evolution averages."""
UNINFORMED = 1e-6
"""Overlap above the prior's own (mean²) that an uninformed start of state evolution has."""
SAME = 1e-4
"""Two state-evolution fixed points closer than this in every overlap are one."""


# ----------------------------------------------------------------------------------------------
# Priors
# ----------------------------------------------------------------------------------------------

class Prior(NamedTuple):
    """A one-dimensional prior as a mixture Σ_k w_k N(μ_k, v_k) (v_k = 0: a point mass)."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.sum(self.weights * self.means))

    @property
    def second_moment(self) -> float:
        return float(np.sum(self.weights * (self.variances + self.means ** 2)))


def _is_spec(value) -> bool:
    return isinstance(value, str) or (isinstance(value, tuple) and len(value) == 2
                                      and isinstance(value[0], str))


def make_prior(spec) -> Prior:
    """The mixture for ``"gaussian"``, ``("gaussian", mu)``, ``"rademacher"`` or ``("sparse", rho)``."""
    if not _is_spec(spec):
        raise ValueError(f"prior must be one of {PRIORS} or (name, parameter), got {spec!r}")
    name, parameter = (spec, None) if isinstance(spec, str) else spec
    if name == "gaussian":
        mu = 0.0 if parameter is None else parameter
        if isinstance(mu, bool) or not isinstance(mu, (int, float, np.integer, np.floating)) \
                or not np.isfinite(mu):
            raise ValueError(f"the Gaussian prior's mean must be a finite number, got {mu!r}")
        return Prior(np.array([1.0]), np.array([float(mu)]), np.array([1.0]))
    if name == "rademacher" and parameter is None:
        return Prior(np.array([0.5, 0.5]), np.array([-1.0, 1.0]), np.zeros(2))
    if name == "sparse" and parameter is not None:
        rho = checks.number("rho", parameter)
        if rho > 1:
            raise ValueError(f"the sparse prior's density rho must be in (0, 1], got {rho}")
        if rho == 1:
            return make_prior("gaussian")
        return Prior(np.array([1 - rho, rho]), np.zeros(2), np.array([0.0, 1 / rho]))
    raise ValueError(f"prior {spec!r} is unknown; use one of {PRIORS} "
                     "(\"gaussian\", (\"gaussian\", mu), \"rademacher\", (\"sparse\", rho))")


def mode_priors(prior, order: int) -> tuple[Prior, ...]:
    """One :class:`Prior` per mode: ``prior`` is one spec for all modes or a list of ``order``."""
    if _is_spec(prior):
        return (make_prior(prior),) * order
    if isinstance(prior, (list, tuple)) and len(prior) == order:
        return tuple(make_prior(spec) for spec in prior)
    raise ValueError(f"prior must be one spec or a list of {order} (one per mode), got {prior!r}")


def _joint(prior: Prior, rank: int) -> Prior:
    """The prior of a row x ∈ R^rank with iid entries: a mixture over K^rank components."""
    picks = np.array(list(itertools.product(range(len(prior.weights)), repeat=rank)))
    return Prior(np.prod(prior.weights[picks], axis=1), prior.means[picks],
                 prior.variances[picks])


# ----------------------------------------------------------------------------------------------
# The denoiser: exact posterior of P(x) exp(Bᵀx − xᵀAx/2)
# ----------------------------------------------------------------------------------------------

def denoise(B: jax.Array, A: jax.Array, prior: Prior) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Posterior mean, covariance and log partition of P(x) exp(Bᵀx − xᵀAx/2), row by row.

    ``B`` is (N, r), ``A`` (r, r) and ``prior`` a joint mixture over rows (``_joint``). Each
    component N(μ, V) (V diagonal, S = V^{1/2}) has posterior covariance Σ = S(I + SAS)⁻¹S,
    mean μ + Σ(B − Aμ) and evidence w exp(Bᵀμ − μᵀAμ/2 + (B − Aμ)ᵀΣ(B − Aμ)/2) / √det(I + SAS);
    the posterior is their mixture. Returns the means (N, r), covariances (N, r, r) and
    log Z (N,).
    """
    weights, means, variances = (jnp.asarray(a, B.dtype) for a in prior)
    r = B.shape[-1]
    if r == 1:                       # the same formulas, elementwise (state evolution's case)
        return _denoise_scalar(B, A, weights, means[:, 0], variances[:, 0])
    S = jnp.sqrt(variances)                                     # (C, r)
    M = jnp.eye(r, dtype=B.dtype) + S[:, :, None] * A[None] * S[:, None, :]
    Sigma = S[:, :, None] * jnp.linalg.inv(M) * S[:, None, :]   # (C, r, r)
    logdet = jnp.linalg.slogdet(M)[1]
    residual = B[:, None, :] - (means @ A)[None]                # (N, C, r)   (A symmetric)
    shift = jnp.einsum("crs,ncs->ncr", Sigma, residual)
    component_means = means[None] + shift
    log_z = (jnp.log(weights) + B @ means.T - 0.5 * jnp.sum(means * (means @ A), -1)
             + 0.5 * jnp.sum(residual * shift, -1) - 0.5 * logdet)
    total = jax.scipy.special.logsumexp(log_z, axis=1)
    posterior = jnp.exp(log_z - total[:, None])                 # (N, C)
    mean = jnp.einsum("nc,ncr->nr", posterior, component_means)
    second = (jnp.einsum("nc,crs->nrs", posterior, Sigma)
              + jnp.einsum("nc,ncr,ncs->nrs", posterior, component_means, component_means))
    return mean, second - mean[:, :, None] * mean[:, None, :], total


def _denoise_scalar(B, A, weights, means, variances):
    """:func:`denoise` for rank 1: Σ_k = v_k/(1 + A v_k), mean μ_k + Σ_k (B − A μ_k)."""
    a = A[0, 0]
    sigma = variances / (1 + a * variances)                     # (C,)
    residual = B - a * means                                    # (N, C)
    component_means = means + sigma * residual
    log_z = (jnp.log(weights) + B * means - 0.5 * a * means ** 2
             + 0.5 * sigma * residual ** 2 - 0.5 * jnp.log1p(a * variances))
    total = jax.scipy.special.logsumexp(log_z, axis=1)
    posterior = jnp.exp(log_z - total[:, None])
    mean = jnp.sum(posterior * component_means, axis=1)
    second = jnp.sum(posterior * (sigma + component_means ** 2), axis=1)
    return mean[:, None], (second - mean ** 2)[:, None, None], total


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------

def _check_shape(shape) -> tuple[int, ...]:
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of mode sizes, got {type(shape).__name__}")
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 modes (a matrix), got {tuple(shape)}")
    return tuple(checks.integer(f"shape[{a}]", size) for a, size in enumerate(shape))


def _check_ratios(shape) -> np.ndarray:
    """n_a = N_a / N with N the geometric mean; ``shape`` may be sizes or ratios."""
    if not isinstance(shape, (tuple, list, np.ndarray)):
        raise TypeError(f"shape must be a sequence of mode sizes, got {type(shape).__name__}")
    sizes = np.asarray(shape, dtype=float)
    if sizes.ndim != 1 or sizes.size < 2:
        raise ValueError(f"shape must have at least 2 modes (a matrix), got {tuple(shape)}")
    if not np.all(np.isfinite(sizes) & (sizes > 0)):
        raise ValueError(f"shape must be positive mode sizes, got {tuple(shape)}")
    return sizes / np.exp(np.mean(np.log(sizes)))


def _check_tensor(T) -> jax.Array:
    T = jnp.asarray(T, dtype=jnp.float32)
    if T.ndim < 2:
        raise ValueError(f"T must have at least 2 modes, got a {T.ndim}-D array of shape {T.shape}")
    if T.size == 0:
        raise ValueError(f"T is empty (shape {T.shape})")
    if not bool(jnp.all(jnp.isfinite(T))):
        raise ValueError("T has NaN or infinite entries")
    return T


def _check_factors(name: str, factors, shape: tuple[int, ...], rank: int) -> list[jax.Array]:
    if not isinstance(factors, (list, tuple)) or len(factors) != len(shape):
        raise ValueError(f"{name} must be a list of {len(shape)} arrays, one per mode")
    out = []
    for a, (factor, size) in enumerate(zip(factors, shape)):
        factor = jnp.asarray(factor, dtype=jnp.float32)
        factor = factor[:, None] if factor.ndim == 1 else factor
        if factor.shape != (size, rank):
            raise ValueError(f"{name}[{a}] must have shape {(size, rank)}, got {factor.shape}")
        if not bool(jnp.all(jnp.isfinite(factor))):
            raise ValueError(f"{name}[{a}] has NaN or infinite entries")
        out.append(factor)
    return out


def coupling(snr: float, shape: Sequence[int]) -> float:
    """λ = √snr / N^{(p−1)/2}, N = (∏ N_a)^{1/p}: the signal's scale in T."""
    shape = _check_shape(shape)
    snr = checks.number("snr", snr, allow_zero=True)
    N = math.exp(np.mean(np.log(shape)))
    return math.sqrt(snr) / N ** ((len(shape) - 1) / 2)


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------

def _outer(factors: Sequence[jax.Array]) -> jax.Array:
    """Σ_ρ x¹_ρ ∘ … ∘ x^p_ρ for factors (N_a, r)."""
    letters = string.ascii_lowercase[: len(factors)]
    terms = ",".join(f"{c}z" for c in letters)
    return jnp.einsum(f"{terms}->{letters}", *factors)


def sample(shape, *, rank: int, snr: float, prior, seed: int):
    """A planted tensor: ``(T, factors)``, T = λ Σ_ρ x¹_ρ ∘ … ∘ x^p_ρ + W (the paper's Eq. 1).

    ``factors`` is a list of p arrays (N_a, rank) with iid entries from each mode's prior;
    W has iid N(0, 1) entries. Both are float32 JAX arrays.
    """
    shape = _check_shape(shape)
    rank = checks.integer("rank", rank)
    lam = coupling(snr, shape)
    priors = mode_priors(prior, len(shape))
    keys = jax.random.split(runtime.key(seed), 2 * len(shape) + 1)
    factors = []
    for a, (size, p_a) in enumerate(zip(shape, priors)):
        k = jax.random.categorical(keys[2 * a], jnp.log(jnp.asarray(p_a.weights)),
                                   shape=(size, rank))
        g = jax.random.normal(keys[2 * a + 1], (size, rank))
        factors.append((jnp.asarray(p_a.means, jnp.float32)[k]
                        + jnp.sqrt(jnp.asarray(p_a.variances, jnp.float32))[k] * g))
    T = lam * _outer(factors) + jax.random.normal(keys[-1], shape)
    return T, factors


def informed_start(truth, *, prior, strength: float, seed: int) -> list[jax.Array]:
    """A start that knows the truth through a side channel: x̂ = f(A₀, A₀ x + √A₀ z) per mode.

    ``f`` is the posterior mean of each mode's prior given a Gaussian observation of
    precision ``strength`` A₀; the start is then Bayes-consistent (|x̂|²/N ≈ x̂ᵀx/N, the
    Nishimori identity), as state evolution assumes, with overlap E[x f(A₀, A₀ x + √A₀ z)].
    """
    strength = checks.number("strength", strength)
    truth = [jnp.asarray(x, jnp.float32).reshape(len(x), -1) for x in truth]
    shape, rank = tuple(len(x) for x in truth), truth[0].shape[1]
    truth = _check_factors("truth", truth, shape, rank)
    keys = jax.random.split(runtime.key(seed), len(truth))
    A = strength * jnp.eye(rank, dtype=jnp.float32)
    return [denoise(strength * x + math.sqrt(strength) * jax.random.normal(k, x.shape), A,
                    Prior(*(jnp.asarray(a, jnp.float32) for a in _joint(p_a, rank))))[0]
            for x, k, p_a in zip(truth, keys, mode_priors(prior, len(truth)))]


def _match(O: np.ndarray) -> np.ndarray:
    """The permutation of estimated components, shared by all modes, maximizing Σ|O|."""
    _, columns = linear_sum_assignment(-np.abs(O).sum(0).T)
    return columns


def overlaps(estimates, truth, *, cosine: bool = False) -> np.ndarray:
    """m_a = |x̂_aᵀ x_a| / N_a per mode (p,), or matched components (p, r) for rank r > 1.

    The components of the estimate are matched to the truth by one permutation shared by all
    modes, chosen to maximize Σ|O| with O_a = X̂_aᵀ X_a / N_a. ``cosine=True`` divides by
    |x̂_a| |x_a| / N_a instead (scale-free, for estimators such as ALS whose factors carry an
    arbitrary scale).
    """
    truth = [np.asarray(x, dtype=float).reshape(len(x), -1) for x in truth]
    shape, rank = tuple(len(x) for x in truth), truth[0].shape[1]
    estimates = [np.asarray(x, dtype=float) for x in
                 _check_factors("estimates", estimates, shape, rank)]
    O = np.stack([e.T @ x for e, x in zip(estimates, truth)])          # (p, r̂, r)
    if cosine:
        norms = np.stack([np.outer(np.linalg.norm(e, axis=0), np.linalg.norm(x, axis=0))
                          for e, x in zip(estimates, truth)])
        O = np.divide(O, norms, out=np.zeros_like(O), where=norms > 0)   # x̂ = 0: overlap 0
    else:
        O = O / np.asarray(shape)[:, None, None]
    matched = np.abs(O[:, _match(O), np.arange(rank)])
    return matched[:, 0] if rank == 1 else matched


# ----------------------------------------------------------------------------------------------
# AMP
# ----------------------------------------------------------------------------------------------

class AMPResult(NamedTuple):
    """What :func:`amp` returns.

    ``factors``: the p posterior means (N_a, r). ``overlaps``: (n_iter + 1, p) for rank 1, or
    (n_iter + 1, p, r), row 0 the start (None without ``truth``). ``self_overlaps``:
    |x̂_a|²/N_a per sweep in the same layout (the Nishimori identity says they equal the
    overlaps). ``n_iter``: sweeps run. ``converged``: the last sweep moved every estimate by
    less than ``tol`` (root mean square).
    """

    factors: list[np.ndarray]
    overlaps: np.ndarray | None
    self_overlaps: np.ndarray
    n_iter: int
    converged: bool


def _contract(T: jax.Array, factors: Sequence[jax.Array], mode: int) -> jax.Array:
    """T ×_{b≠a} X̂^b: (N_a, r), the tensor contracted with every other mode's estimate."""
    letters = string.ascii_lowercase[: T.ndim]
    others = [b for b in range(T.ndim) if b != mode]
    terms = ",".join(f"{letters[b]}z" for b in others)
    return jnp.einsum(f"{letters},{terms}->{letters[mode]}z", T, *(factors[b] for b in others))


def _gram(X: jax.Array, Y: jax.Array) -> jax.Array:
    return X.T @ Y


@functools.partial(jax.jit, static_argnames=("max_iter", "onsager"))
def _amp_loop(T, lam, priors, X0, truth, damping, tol, *, max_iter, onsager):
    p, r = T.ndim, X0[0].shape[1]
    sizes = jnp.asarray(T.shape, jnp.float32)

    def record(X):
        O = jnp.stack([_gram(X[a], truth[a]) for a in range(p)]) / sizes[:, None, None]
        Q = jnp.stack([_gram(X[a], X[a]) for a in range(p)]) / sizes[:, None, None]
        return O, Q

    def sweep(state):
        X, snaps, S, updated, fields, precisions = state
        X, snaps, S, fields, precisions = (list(X), list(snaps), list(S), list(fields),
                                           list(precisions))
        updated = list(updated)
        for a in range(p):
            others = [b for b in range(p) if b != a]
            B = lam * _contract(T, X, a)
            if onsager:
                for b in others:
                    M = lam ** 2 * S[b]
                    for c in others:
                        if c != b:
                            M = M * _gram(X[c], snaps[b][c])
                    B = B - jnp.where(updated[b], 1.0, 0.0) * snaps[b][a] @ M.T
            A = lam ** 2 * functools.reduce(jnp.multiply, [_gram(X[b], X[b]) for b in others])
            mix = jnp.where(updated[a], damping, 0.0)
            B = (1 - mix) * B + mix * fields[a]
            A = (1 - mix) * A + mix * precisions[a]
            mean, cov, _ = denoise(B, A, priors[a])
            snaps[a] = tuple(X)
            X[a], S[a], fields[a], precisions[a] = mean, cov.sum(0), B, A
            updated[a] = jnp.bool_(True)
        return tuple(X), tuple(snaps), tuple(S), tuple(updated), tuple(fields), tuple(precisions)

    def body(carry):
        state, t, change, O_hist, Q_hist = carry
        new = sweep(state)
        change = jnp.max(jnp.stack([jnp.sqrt(jnp.mean((x - y) ** 2))
                                    for x, y in zip(new[0], state[0])]))
        O, Q = record(new[0])
        return new, t + 1, change, O_hist.at[t + 1].set(O), Q_hist.at[t + 1].set(Q)

    def going(carry):
        _, t, change, _, _ = carry
        return (t < max_iter) & (change >= tol) & jnp.isfinite(change)

    zeros = tuple(jnp.zeros_like(x) for x in X0)
    rr = tuple(jnp.zeros((r, r), jnp.float32) for _ in range(p))
    state = (tuple(X0), (tuple(X0),) * p, rr, (jnp.bool_(False),) * p, zeros, rr)
    O0, Q0 = record(X0)
    O_hist = jnp.zeros((max_iter + 1, p, r, r), jnp.float32).at[0].set(O0)
    Q_hist = jnp.zeros((max_iter + 1, p, r, r), jnp.float32).at[0].set(Q0)
    carry = (state, jnp.int32(0), jnp.float32(np.finfo(np.float32).max), O_hist, Q_hist)
    state, t, change, O_hist, Q_hist = jax.lax.while_loop(going, body, carry)
    return state[0], t, change, O_hist, Q_hist


def amp(T, *, snr: float, rank: int, prior, max_iter: int, damping: float = 0.0, seed: int = 0,
        truth=None, init=None, tol: float = 1e-5, onsager: bool = True) -> AMPResult:
    """Bayesian AMP for the factors of T (the paper's AMP; see the module docstring).

    Sweeps the modes in order a = 1 … p, at most ``max_iter`` times, stopping when a sweep
    moves every estimate by less than ``tol`` (root mean square). ``damping`` ∈ [0, 1) mixes
    each new field and precision with the previous ones (it cannot move a fixed point).
    The start is ``init`` (p arrays (N_a, rank)) or, by default, the prior mean plus
    N(0, 0.1²) noise drawn from ``seed``. ``truth`` (p arrays) records the overlaps of every
    sweep. ``onsager=False`` drops the reaction terms (naive mean field; for comparison).
    """
    T = _check_tensor(T)
    snr = checks.number("snr", snr, allow_zero=True)
    rank = checks.integer("rank", rank)
    max_iter = checks.integer("max_iter", max_iter)
    tol = checks.number("tol", tol, allow_zero=True)
    damping = checks.number("damping", damping, allow_zero=True)
    if damping >= 1:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    shape = T.shape
    priors = mode_priors(prior, T.ndim)
    if init is None:
        keys = jax.random.split(runtime.key(seed), T.ndim)
        init = [p_a.mean + 0.1 * jax.random.normal(k, (size, rank))
                for k, size, p_a in zip(keys, shape, priors)]
    X0 = _check_factors("init", init, shape, rank)
    known = truth is not None
    truth = (_check_factors("truth", truth, shape, rank) if known
             else [jnp.zeros((size, rank), jnp.float32) for size in shape])
    joint = tuple(Prior(*(jnp.asarray(a, jnp.float32) for a in _joint(p_a, rank)))
                  for p_a in priors)
    X, t, change, O_hist, Q_hist = _amp_loop(
        T, jnp.float32(coupling(snr, shape)), joint, tuple(X0), tuple(truth),
        jnp.float32(damping), jnp.float32(tol), max_iter=max_iter, onsager=bool(onsager))
    n_iter = int(t)
    O_hist, Q_hist = np.asarray(O_hist[: n_iter + 1]), np.asarray(Q_hist[: n_iter + 1])
    orders = [_match(O) for O in O_hist] if known else [np.arange(rank)] * (n_iter + 1)
    matched = np.stack([np.abs(O[:, order, np.arange(rank)]) for O, order in zip(O_hist, orders)])
    selves = np.stack([np.stack([np.diag(q)[order] for q in Q])
                       for Q, order in zip(Q_hist, orders)])
    squeeze = (lambda a: a[..., 0]) if rank == 1 else (lambda a: a)
    return AMPResult([np.asarray(x) for x in X], squeeze(matched) if known else None,
                     squeeze(selves), n_iter, bool(np.isfinite(float(change))
                                                   and float(change) < tol))


# ----------------------------------------------------------------------------------------------
# State evolution and free entropy (rank 1)
# ----------------------------------------------------------------------------------------------

def _scalar_channel(prior: Prior, A: jax.Array) -> tuple[jax.Array, jax.Array]:
    """m(A) = E[x f(A, A x + √A z)] and ψ(A) = E log Z(A x + √A z, A) for one mode's prior.

    Per mixture component k the field y = A x + √A z is N(A μ_k, A² v_k + A) and
    E[x | y, k] = μ_k + v_k (y − A μ_k) / (A v_k + 1), so both are one-dimensional Gauss–Hermite
    averages over y.
    """
    z, w = (jnp.asarray(a, A.dtype) for a in gauss_hermite(QUADRATURE_NODES))
    weights, means, variances = (jnp.asarray(a, A.dtype) for a in prior)
    spread = jnp.sqrt(A ** 2 * variances + A)
    y = A * means[:, None] + spread[:, None] * z[None]                     # (K, Q)
    x_given_y = means[:, None] + variances[:, None] * (y - A * means[:, None]) / (
        A * variances[:, None] + 1)
    rows = Prior(weights, means[:, None], variances[:, None])       # the rank-1 joint prior
    f, _, log_z = denoise(y.reshape(-1, 1), A.reshape(1, 1), rows)
    average = lambda values: jnp.sum(weights[:, None] * w[None] * values.reshape(y.shape))
    return average(x_given_y.reshape(-1) * f[:, 0]), average(log_z)


def _fields(m: jax.Array, snr: jax.Array, n: jax.Array, mode: int) -> jax.Array:
    """A^a = snr ∏_{b≠a} n_b m_b (clipped at 0 against round-off below m = 0)."""
    return jnp.maximum(snr * jnp.prod(jnp.where(jnp.arange(m.shape[-1]) == mode, 1.0, n * m)),
                       0.0)


def _sweep(m, snr, n, priors, sequential: bool):
    """One state-evolution sweep over the modes, in order (sequential) or all at once."""
    new = m
    for a, prior in enumerate(priors):
        A = _fields(new if sequential else m, snr, n, a)
        new = new.at[a].set(_scalar_channel(prior, A)[0])
    return new


def _check_update(update: str) -> bool:
    if update not in ("sequential", "parallel"):
        raise ValueError(f"update must be 'sequential' or 'parallel', got {update!r}")
    return update == "sequential"


@functools.partial(jax.jit, static_argnames=("n_iter", "sequential"))
def _trajectory(m0, snr, n, priors, *, n_iter, sequential):
    def step(m, _):
        m = _sweep(m, snr, n, priors, sequential)
        return m, m
    return jnp.concatenate([m0[None], jax.lax.scan(step, m0, None, length=n_iter)[1]])


def _se_inputs(snr, shape, prior, m0=None):
    snr = checks.number("snr", snr, allow_zero=True)
    n = _check_ratios(shape)
    priors = mode_priors(prior, len(n))
    arrays = tuple(Prior(*(jnp.asarray(a) for a in p_a)) for p_a in priors)
    if m0 is None:
        return snr, jnp.asarray(n), priors, arrays
    m0 = np.broadcast_to(np.asarray(m0, dtype=float), n.shape)
    if not np.all(np.isfinite(m0)) or np.any(m0 < 0):
        raise ValueError(f"m0 must be non-negative overlaps, one per mode or one for all, got {m0}")
    return snr, jnp.asarray(n), priors, arrays, jnp.asarray(m0)


@in_float64
def state_evolution(*, snr: float, shape, prior, n_iter: int, m0, update: str = "sequential"):
    """Overlaps predicted for AMP, sweep by sweep: (n_iter + 1, p), row 0 = ``m0``.

    m_a ← E[x f_a(A^a, A^a x + √A^a z)] with A^a = snr ∏_{b≠a} n_b m_b (the paper's
    state-evolution equations, rank 1). ``shape`` gives the mode sizes (or their ratios n_a);
    ``update="sequential"`` sweeps the modes in order as :func:`amp` does, ``"parallel"``
    updates all modes from the previous sweep. Gaussian(mu) has the closed form
    m′ = (A(1 + mu²) + mu²)/(1 + A); Rademacher m′ = E tanh(A + √A z).
    """
    sequential = _check_update(update)
    n_iter = checks.integer("n_iter", n_iter, minimum=0)
    snr, n, _, arrays, m0 = _se_inputs(snr, shape, prior, m0)
    return _trajectory(m0, jnp.float64(snr), n, arrays, n_iter=n_iter, sequential=sequential)


def _phi(m, snr, n, priors):
    """Φ(m) = Σ_a n_a ψ_a(A^a) − (p − 1)/2 · snr ∏_a n_a m_a."""
    psi = jnp.stack([_scalar_channel(prior, _fields(m, snr, n, a))[1]
                     for a, prior in enumerate(priors)])
    return jnp.sum(n * psi) - (len(priors) - 1) / 2 * snr * jnp.prod(n * m)


_phi_batch = jax.jit(jax.vmap(_phi, in_axes=(0, None, None, None)))


@in_float64
def free_entropy(m, *, snr: float, shape, prior):
    """Φ(m) = Σ_a n_a ψ_a(A^a) − (p − 1)/2 · snr ∏_a n_a m_a at overlaps ``m`` ((p,) or (k, p)).

    ψ_a(A) = E log ∫ P_a(x) exp(x (A x₀ + √A z) − A x²/2) dx, ψ_a′ = m/2, so the fixed points
    of :func:`state_evolution` are the stationary points of Φ; the largest Φ is Bayes-optimal.
    """
    snr, n, _, arrays = _se_inputs(snr, shape, prior)
    m = np.asarray(m, dtype=float)
    if m.shape[-1:] != n.shape or m.ndim > 2 or not np.all(np.isfinite(m)):
        raise ValueError(f"m must be finite overlaps of shape ({n.size},) or (k, {n.size})")
    out = _phi_batch(jnp.asarray(m.reshape(-1, n.size)), jnp.float64(snr), n, arrays)
    return out[0] if m.ndim == 1 else out


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _fixed_points(m0, snr, n, priors, *, max_iter):
    """Sequential state evolution run to its fixed point, vmapped over snr (rtol 1e-8)."""
    def run(s):
        def going(carry):
            m, previous, t = carry
            return (t < max_iter) & jnp.any(jnp.abs(m - previous) > 1e-8 * m + 1e-14)

        def body(carry):
            m, _, t = carry
            return _sweep(m, s, n, priors, True), m, t + 1

        return jax.lax.while_loop(going, body, (_sweep(m0, s, n, priors, True), m0, 0))[0]
    return jax.vmap(run)(snr)


class Regimes(NamedTuple):
    """What :func:`regimes` returns, each (len(snr),) or (len(snr), p)."""

    phase: np.ndarray
    uninformed: np.ndarray
    informed: np.ndarray
    free_entropy_uninformed: np.ndarray
    free_entropy_informed: np.ndarray


@in_float64
def regimes(*, snr, shape, prior, max_iter: int = 1000) -> Regimes:
    """State evolution from an uninformed and an informed start, and the phase, for each snr.

    Uninformed: m_a = (E x_a)² + 10⁻⁶ (what the prior alone gives AMP). Informed: m_a = E x_a²
    (the truth). Each runs to its fixed point; Φ decides which is Bayes-optimal:

    - ``"easy"``: AMP's (uninformed) fixed point is the Bayes-optimal one and it is
      informative (above the prior's own overlap);
    - ``"hard"``: the informed fixed point has the larger free entropy (inference is possible,
      but AMP from an uninformed start does not reach it);
    - ``"impossible"``: the Bayes-optimal fixed point is the prior's own overlap.
    """
    snrs = np.atleast_1d(np.asarray(snr, dtype=float))
    if snrs.ndim != 1 or not np.all(np.isfinite(snrs)) or np.any(snrs < 0):
        raise ValueError(f"snr must be finite and non-negative, got {snr!r}")
    _, n, priors, arrays = _se_inputs(0.0, shape, prior)
    trivial = np.array([p_a.mean ** 2 for p_a in priors])
    full = np.array([p_a.second_moment for p_a in priors])
    points = [np.asarray(_fixed_points(jnp.asarray(m0), jnp.asarray(snrs), n, arrays,
                                       max_iter=max_iter))
              for m0 in (trivial + UNINFORMED, full)]
    phis = [np.asarray(jax.vmap(_phi, in_axes=(0, 0, None, None))(
        jnp.asarray(m), jnp.asarray(snrs), n, arrays)) for m in points]
    informative = np.any(points[0] - trivial > SAME, axis=1)
    distinct = np.any(np.abs(points[1] - points[0]) > SAME, axis=1)
    hard = distinct & (phis[1] > phis[0] + 1e-12)
    phase = np.where(hard, "hard", np.where(informative, "easy", "impossible"))
    return Regimes(phase, points[0], points[1], phis[0], phis[1])


def phase(*, snr, shape, prior) -> str | np.ndarray:
    """``"easy"``, ``"hard"`` or ``"impossible"`` at ``snr`` (a number, or an array of them).

    See :func:`regimes` for the definitions; they are computed from the fixed points of
    sequential state evolution and the free entropy.
    """
    out = regimes(snr=snr, shape=shape, prior=prior).phase
    return str(out[0]) if np.ndim(snr) == 0 else out


def detectability_threshold(shape, *, prior) -> float:
    """The snr above which state evolution leaves the prior's own overlap m_a = (E x_a)².

    At that point A^a = 0 and ∂m_a′/∂m_b = Var(x_a)² n_b ∏_{c≠a,b} n_c (E x_c)² (b ≠ a): the
    trivial fixed point becomes unstable at snr_c = 1/ρ(K) with ρ the spectral radius of that
    matrix K (the same for sequential and parallel updates, by Stein–Rosenberg). For p = 2 and
    zero-mean priors, snr_c = 1/(v₁ v₂ √(n₁ n₂)): 1 for unit variances and any aspect ratio.
    Returns 0 when the prior means alone give a field (A^a > 0, e.g. any mean for p = 2, or
    two modes with non-zero means), and inf when no mode can start (p ≥ 3, zero means).
    """
    n = _check_ratios(shape)
    priors = mode_priors(prior, len(n))
    known = np.array([p_a.mean ** 2 for p_a in priors])
    variance = np.array([p_a.second_moment - p_a.mean ** 2 for p_a in priors])
    p = len(n)
    base = [np.prod([n[b] * known[b] for b in range(p) if b != a]) for a in range(p)]
    if max(base) > 0:
        return 0.0
    K = np.array([[0.0 if a == b else variance[a] ** 2 * n[b] * np.prod(
        [n[c] * known[c] for c in range(p) if c not in (a, b)]) for b in range(p)]
        for a in range(p)])
    radius = float(np.max(np.abs(np.linalg.eigvals(K))))
    return math.inf if radius == 0 else 1.0 / radius


# ----------------------------------------------------------------------------------------------
# Alternating least squares (tensorly), the paper's baseline
# ----------------------------------------------------------------------------------------------

def als(T, *, snr: float, rank: int, n_iter_max: int = 100, init: str = "svd", seed: int = 0,
        tol: float = 1e-8) -> list[np.ndarray]:
    """CP decomposition by alternating least squares, tensorly's ``parafac``, as factors.

    Each component's weight w is spread over the modes so that the factors sit on the
    signal's scale: λ ∏_a |x̂^a_ρ| = w with |x̂^a_ρ|² / N_a equal across modes (usable as an
    :func:`amp` start). ``init``: ``"svd"``, tensorly's default start (the leading left
    singular vectors of each unfolding, computed here from its Gram matrix, which is faster
    than tensorly's full SVD), or ``"random"``. Raises
    ImportError when tensorly is missing (it is a book dependency, not the library's).
    """
    import tensorly
    from tensorly.cp_tensor import CPTensor
    from tensorly.decomposition import parafac

    T = np.asarray(_check_tensor(T), dtype=np.float64)
    rank = checks.integer("rank", rank)
    if init not in ("svd", "random"):
        raise ValueError(f"init must be 'svd' or 'random', got {init!r}")
    lam = coupling(snr, T.shape)
    if lam == 0:
        raise ValueError("snr must be positive to put the ALS factors on the signal's scale")
    if init == "svd":                # tensorly's "svd" start, from each unfolding's Gram matrix
        start = []
        for a in range(T.ndim):
            unfolding = np.moveaxis(T, a, 0).reshape(T.shape[a], -1)
            vectors = np.linalg.eigh(unfolding @ unfolding.T)[1][:, ::-1][:, :rank]
            start.append(np.pad(vectors, ((0, 0), (0, rank - vectors.shape[1]))))
        init = CPTensor((np.ones(rank), start))
    with tensorly.backend_context("numpy"):
        weights, factors = parafac(T, rank, n_iter_max=checks.integer("n_iter_max", n_iter_max),
                                   init=init, tol=tol, random_state=seed)
    norms = [np.linalg.norm(f, axis=0) for f in factors]
    weights = np.asarray(weights) * np.prod(norms, axis=0)
    factors = [f / np.where(n > 0, n, 1.0) for f, n in zip(factors, norms)]
    sizes = np.asarray(T.shape, dtype=float)
    # λ ∏_a (√N_a s) = |w|  ⇒  s = (|w| / (λ ∏ √N_a))^{1/p}
    scale = (np.abs(weights) / (lam * np.prod(np.sqrt(sizes)))) ** (1 / T.ndim)
    out = [np.asarray(f) * np.sqrt(size) * scale for f, size in zip(factors, sizes)]
    out[0] = out[0] * np.sign(weights)
    return [f.astype(np.float32) for f in out]
