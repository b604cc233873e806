"""Convolutive nonnegative matrix factorization (CNMF): motifs that repeat in a long time series.

Degleris, Antin, Ganguli & Williams, "Fast convolutive nonnegative matrix factorization through
coordinate and block coordinate updates" (arXiv:1907.00139, 2019). Shapes throughout:

    X  (N, T)     nonnegative data: N neurons (or frequencies) by T time bins
    W  (L, N, K)  K motifs, each L lags long
    H  (K, T)     when each motif starts, and how strongly

The model is a sum of shifted matrix products (the CNMF model of Smaragdis 2004, as in the paper)

    X̂ = Σ_{l=0}^{L-1} W_l S_l H,     (S_l H)[:, t] = H[:, t - l]  (zero for t < l),

fitted by minimizing ½‖X − X̂‖²_F (+ optional ℓ1/ℓ2 penalties) over W ≥ 0, H ≥ 0. Three
algorithms alternate between the W block and the H block:

- ``"mu"``: multiplicative updates (Lee & Seung; Smaragdis; seqNMF), the paper's baseline;
- ``"hals"``: hierarchical alternating least squares, exact coordinate updates of each motif
  column W_l[:, k] and each loading H[k, t] (the paper's HALS for CNMF);
- ``"anls"``: alternating nonnegative least squares, an exact NNLS solve for all of W and for
  H in blocks of columns, by block principal pivoting (the paper's ANLS for CNMF).

Every step is one jitted function; :func:`fit` times each iteration on the host (compilation
excluded and reported separately), which is what the paper's loss-versus-time figures plot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_factor, cho_solve
from scipy.optimize import linear_sum_assignment

from neurotheory import checks, runtime

METHODS = ("mu", "hals", "anls")
EPS = 1e-12


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------

def shift_stack(H: jax.Array, n_lags: int) -> jax.Array:
    """All shifted copies of H, shape (L, K, T): ``out[l] = S_l H``, (S_l H)[:, t] = H[:, t − l].

    The shifts move H right and fill with zeros, so a motif starting near the end of the
    recording is cut off at T (no wrap-around).
    """
    if H.ndim != 2:
        raise ValueError(f"H must be 2-dimensional (K, T), got shape {H.shape}")
    checks.integer("n_lags", n_lags)
    K, T = H.shape
    padded = jnp.concatenate([jnp.zeros((K, n_lags), H.dtype), H], axis=1)
    return jax.vmap(lambda l: jax.lax.dynamic_slice_in_dim(padded, n_lags - l, T, axis=1))(
        jnp.arange(n_lags))


def unshift_sum(P: jax.Array) -> jax.Array:
    """The adjoint of the shifts, summed over lags: ``Σ_l S_lᵀ P[l]``, (S_lᵀ P)[:, t] = P[:, t + l].

    ``P`` has shape (L, K, T); the result (K, T). With ``P[l] = W_lᵀ R`` this is the gradient
    direction ``Σ_l W_lᵀ S_lᵀ R`` of the loss with respect to H.
    """
    if P.ndim != 3:
        raise ValueError(f"P must be 3-dimensional (L, K, T), got shape {P.shape}")
    L, K, T = P.shape
    padded = jnp.concatenate([P, jnp.zeros((L, K, L), P.dtype)], axis=2)
    return jax.vmap(lambda p, l: jax.lax.dynamic_slice_in_dim(p, l, T, axis=1))(
        padded, jnp.arange(L)).sum(0)


@jax.jit
def _reconstruct(W: jax.Array, H: jax.Array) -> jax.Array:
    return jnp.einsum("lnk,lkt->nt", W, shift_stack(H, W.shape[0]))


def _loss(X, W, H):
    """½‖X − X̂‖²_F."""
    return 0.5 * jnp.sum((X - _reconstruct(W, H)) ** 2)


def reconstruct(W, H) -> np.ndarray:
    """The CNMF reconstruction X̂ = Σ_l W_l S_l H, shape (N, T).

    ``W`` has shape (L, N, K) and ``H`` shape (K, T); both must be finite.
    """
    W = _as_float_array(W, "W", ndim=3)
    H = _as_float_array(H, "H", ndim=2)
    if W.shape[2] != H.shape[0]:
        raise ValueError(f"W has {W.shape[2]} components but H has {H.shape[0]} rows")
    return np.asarray(_reconstruct(jnp.asarray(W), jnp.asarray(H)))


def relative_loss(X, W, H) -> float:
    """½‖X − X̂‖²_F divided by ½‖X‖²_F: 0 is a perfect fit, 1 is as bad as X̂ = 0."""
    X = _check_data(X)
    X_hat = reconstruct(W, H)
    if X_hat.shape != X.shape:
        raise ValueError(f"W and H reconstruct a {X_hat.shape} matrix but X is {X.shape}")
    return float(np.sum((X - X_hat) ** 2) / np.sum(X ** 2))


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------

def _as_float_array(value, name: str, *, ndim: int) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has NaN or infinite entries")
    return array


def _check_data(X) -> np.ndarray:
    X = _as_float_array(X, "X", ndim=2)
    if np.any(X < 0):
        raise ValueError(f"X must be nonnegative; its smallest entry is {X.min():g}")
    if not np.any(X > 0):
        raise ValueError("X is all zeros; there is nothing to factorize")
    return X


# ----------------------------------------------------------------------------------------------
# Nonnegative least squares: block principal pivoting (Kim & Park 2011)
# ----------------------------------------------------------------------------------------------

class Penalty(NamedTuple):
    """ℓ1 and ℓ2 weights of one factor: + l1 Σ|x| + ½ l2 Σx² in the objective."""

    l1: jax.Array
    l2: jax.Array


def nnls_gram(G: jax.Array, b: jax.Array, passive: jax.Array, max_iter: int = 64) -> jax.Array:
    """Solve min_{x ≥ 0} ½ xᵀGx − bᵀx exactly by block principal pivoting.

    KKT conditions: x ≥ 0, y = Gx − b ≥ 0, x ⊙ y = 0. Each iteration guesses the passive set
    F (x_F free, x elsewhere 0), solves G_FF x_F = b_F, and exchanges every variable that breaks
    the conditions; when that stops shrinking the number of violations it backs off to
    exchanging one (Kim & Park 2011, Alg. 2), which terminates. ``passive`` is the warm start
    (the previous solution's support). ``G`` is (p, p) positive semidefinite, ``b`` is (p,).
    """
    if b.ndim != 1 or G.shape != (b.shape[0], b.shape[0]) or passive.shape != b.shape:
        raise ValueError(f"nnls_gram needs G (p, p), b (p,), passive (p,); got {G.shape}, {b.shape}, {passive.shape}")
    p = b.shape[0]
    ridge = 1e-7 * (jnp.trace(G) / p) + 1e-30
    scale = jnp.max(jnp.abs(b)) + 1e-30

    def solve(F):
        both = F[:, None] & F[None, :]
        A = jnp.where(both, G, 0.0) + jnp.diag(jnp.where(F, ridge, 1.0))
        x = cho_solve(cho_factor(A), jnp.where(F, b, 0.0))
        x = jnp.where(F, x, 0.0)
        y = jnp.where(F, 0.0, G @ x - b)
        return x, y

    def infeasible(x, y, F):
        return (F & (x < 0)) | (~F & (y < -1e-6 * scale))

    def body(state):
        F, x, y, alpha, beta, it = state
        V = infeasible(x, y, F)
        n = V.sum()
        full = (n < beta) | (alpha > 0)
        last = jnp.zeros(p, bool).at[p - 1 - jnp.argmax(V[::-1])].set(True)
        flip = jnp.where(full, V, last)
        alpha = jnp.where(n < beta, 3, jnp.where(full, alpha - 1, alpha))
        beta = jnp.minimum(beta, n)
        F = F ^ flip
        x, y = solve(F)
        return F, x, y, alpha, beta, it + 1

    def keep_going(state):
        F, x, y, _, _, it = state
        return jnp.any(infeasible(x, y, F)) & (it < max_iter)

    x, y = solve(passive)
    state = (passive, x, y, jnp.int32(3), jnp.int32(p + 1), jnp.int32(0))
    _, x, _, _, _, _ = jax.lax.while_loop(keep_going, body, state)
    return jnp.maximum(x, 0.0)


# ----------------------------------------------------------------------------------------------
# One iteration of each algorithm: update W, then H. Each returns (W, H, ½‖X − X̂‖²).
# ----------------------------------------------------------------------------------------------

def _unfold(W: jax.Array) -> jax.Array:
    """W (L, N, K) as the N × LK matrix [W_0 … W_{L−1}], so X̂ = W_unfold · stack_l(S_l H)."""
    L, N, K = W.shape
    return W.transpose(1, 0, 2).reshape(N, L * K)


def _fold(W_unfold: jax.Array, L: int, K: int) -> jax.Array:
    N = W_unfold.shape[0]
    return W_unfold.reshape(N, L, K).transpose(1, 0, 2)


@jax.jit
def mu_step(X, W, H, pen_W: Penalty, pen_H: Penalty):
    """Multiplicative updates (Lee & Seung 2001 for a convolution; seqNMF without its x-ortho term).

    W_l ← W_l ⊙ (X (S_l H)ᵀ + ε) / (X̂ (S_l H)ᵀ + l1 + l2 W_l + ε),
    H   ← H ⊙ (Σ_l W_lᵀ S_lᵀ X + ε) / (Σ_l W_lᵀ S_lᵀ X̂ + l1 + l2 H + ε).

    Each is the minimizer of a diagonal quadratic majorizer of the objective (the ε sits in
    numerator and denominator so this stays exact), so the objective never increases. The step
    length is set by the majorizer's curvature, which is why MU crawls when the problem is
    ill-conditioned.
    """
    L = W.shape[0]
    shifted = shift_stack(H, L)
    X_hat = jnp.einsum("lnk,lkt->nt", W, shifted)
    numer = jnp.einsum("nt,lkt->lnk", X, shifted)
    denom = jnp.einsum("nt,lkt->lnk", X_hat, shifted) + pen_W.l1 + pen_W.l2 * W
    W = W * (numer + EPS) / (denom + EPS)
    X_hat = jnp.einsum("lnk,lkt->nt", W, shifted)
    numer = unshift_sum(jnp.einsum("lnk,nt->lkt", W, X))
    denom = unshift_sum(jnp.einsum("lnk,nt->lkt", W, X_hat)) + pen_H.l1 + pen_H.l2 * H
    H = H * (numer + EPS) / (denom + EPS)
    return W, H, _loss(X, W, H)


def _hals_W(X, W, H, pen: Penalty):
    """Exact minimization over each motif column W_l[:, k] in turn (Gram form).

    With the unfolded motifs W̃ (N × LK), Hs = stack_l S_l H (LK × T), A = X Hsᵀ, B = Hs Hsᵀ:
    w_c ← max(0, (A_c − W̃ B_c + w_c B_cc − l1) / (B_cc + l2)).
    """
    L, N, K = W.shape
    stacked = shift_stack(H, L).reshape(L * K, -1)
    A = X @ stacked.T
    B = stacked @ stacked.T

    def column(c, W_unfold):
        w = W_unfold[:, c]
        grad = A[:, c] - W_unfold @ B[:, c] + w * B[c, c]
        return W_unfold.at[:, c].set(jnp.maximum(0.0, (grad - pen.l1) / (B[c, c] + pen.l2 + EPS)))

    return _fold(jax.lax.fori_loop(0, L * K, column, _unfold(W)), L, K)


def motif_gram(W: jax.Array) -> jax.Array:
    """Truncated motif cross-correlations P[m, s] = Σ_{l < m} W_lᵀ W_{l−s}, shape (L+1, 2L, K, K).

    s runs over −L … L−1 (index s + L); W_{l−s} = 0 outside 0 … L−1. The loss gradient in H is

        −∂f/∂H[:, t] = Σ_{l: t+l<T} W_lᵀ (X − X̂)[:, t+l] = B[:, t] − Σ_s P[m_t, s] H[:, t+s],

    with B = Σ_l W_lᵀ S_lᵀ X and m_t = min(L, T − t): loadings within L of the end see only
    the lags that fit before T. So H-updates need only K × T arrays, never the N × T residual.
    """
    if W.ndim != 3:
        raise ValueError(f"W must be 3-dimensional (L, N, K), got shape {W.shape}")
    L, N, K = W.shape
    pairs = jnp.einsum("lnk,mnj->lmkj", W, W)                           # W_lᵀ W_m
    lags = jnp.arange(L)[:, None]
    partner = lags - (jnp.arange(2 * L)[None, :] - L)                    # m = l − s
    valid = (partner >= 0) & (partner < L)
    by_shift = jnp.where(valid[..., None, None], pairs[lags, jnp.clip(partner, 0, L - 1)], 0.0)
    return jnp.concatenate([jnp.zeros((1, 2 * L, K, K), W.dtype), jnp.cumsum(by_shift, axis=0)])


def _at_phase(Ap: jax.Array, p, J: int, L: int) -> jax.Array:
    """A[:, p + jL] for j = 0 … J−1, shape (K, J); Ap has L zeros in front."""
    return jax.lax.dynamic_slice_in_dim(Ap, p + L, J * L, axis=1).reshape(Ap.shape[0], J, L)[:, :, 0]


def _windows(Hp: jax.Array, p, J: int, L: int) -> jax.Array:
    """H[:, t_j − L … t_j + L − 1] for the loadings t_j = p + jL, shape (K, J, 2L); Hp has L zeros in front."""
    K = Hp.shape[0]
    before = jax.lax.dynamic_slice_in_dim(Hp, p, J * L, axis=1).reshape(K, J, L)
    after = jax.lax.dynamic_slice_in_dim(Hp, p + L, J * L, axis=1).reshape(K, J, L)
    return jnp.concatenate([before, after], axis=2)


def _set_loadings(Hp: jax.Array, p, values: jax.Array, J: int, L: int) -> jax.Array:
    """Write ``values`` (K, J) into H[:, p + jL] of the front-padded Hp."""
    K = Hp.shape[0]
    after = jax.lax.dynamic_slice_in_dim(Hp, p + L, J * L, axis=1).reshape(K, J, L)
    return jax.lax.dynamic_update_slice_in_dim(Hp, after.at[:, :, 0].set(values).reshape(K, J * L),
                                               p + L, axis=1)


def _strided_setup(X, W, H):
    """What both H-updates share: B = Σ_l W_lᵀ S_lᵀ X, the motif Gram P, and padded H.

    Loadings L apart never share a data column, so the loadings t ≡ p (mod L) are updated
    together, for p = 0 … L−1: J = ⌈T/L⌉ of them per phase; the last one that exists,
    t* = p + j*L with j* = ⌊(T−1−p)/L⌋, is the one within L of the end.
    """
    L = W.shape[0]
    K, T = H.shape
    J = -(-T // L)
    B = unshift_sum(jnp.einsum("lnk,nt->lkt", W, X))
    P = motif_gram(W)
    pad = ((0, 0), (L, (J + 1) * L - T))
    return J, jnp.pad(B, pad), P, jnp.pad(H, pad)


def _hals_H(X, W, H, pen: Penalty):
    """Exact minimization over each loading H[k, t] in turn (the paper's HALS update for H).

    h ← max(0, (c h + g − l1) / (c + l2)), with g = −∂f/∂H[k, t] (see :func:`motif_gram`) and
    curvature c = Σ_{l: t+l<T} ‖W_l[:, k]‖². Phases p = 0 … L−1 update the independent
    loadings t ≡ p (mod L) at once, so each sweep is the sequential coordinate descent.
    """
    L = W.shape[0]
    K, T = H.shape
    J, Bp, P, Hp = _strided_setup(X, W, H)
    full = P[L]
    starts = jnp.arange(J) * L

    def phase(i, Hp):
        k, p = i // L, i % L
        last = (T - 1 - p) // L
        window = _windows(Hp, p, J, L)                                  # (K, J, 2L)
        tail = P[T - p - last * L]                                      # the last loading's Gram
        grad = jnp.einsum("sm,mjs->j", full[:, k, :], window)
        grad = grad.at[last].set(jnp.einsum("sm,ms->", tail[:, k, :], window[:, last]))
        grad = _at_phase(Bp, p, J, L)[k] - grad
        curvature = jnp.full(J, full[L, k, k]).at[last].set(tail[L, k, k])
        old = window[k, :, L]
        new = jnp.maximum(0.0, (curvature * old + grad - pen.l1) / (curvature + pen.l2 + EPS))
        new = jnp.where(p + starts < T, new, 0.0)
        return _set_loadings(Hp, p, window[:, :, L].at[k].set(new), J, L)

    Hp = jax.lax.fori_loop(0, K * L, phase, Hp)
    return Hp[:, L:L + T]


@jax.jit
def hals_step(X, W, H, pen_W: Penalty, pen_H: Penalty):
    """One HALS iteration: every motif column, then every loading, each minimized exactly."""
    W = _hals_W(X, W, H, pen_W)
    H = _hals_H(X, W, H, pen_H)
    return W, H, _loss(X, W, H)


def _anls_W(X, W, H, pen: Penalty):
    """Exact NNLS for all motifs: each neuron's row of W̃ solves min ½ wᵀ(B + l2 I)w − (A_n − l1)ᵀw."""
    L, N, K = W.shape
    stacked = shift_stack(H, L).reshape(L * K, -1)
    A = X @ stacked.T
    B = stacked @ stacked.T + pen.l2 * jnp.eye(L * K)
    W_unfold = _unfold(W)
    solved = jax.vmap(nnls_gram, in_axes=(None, 0, 0))(B, A - pen.l1, W_unfold > 0)
    return _fold(solved, L, K)


def _anls_H(X, W, H, pen: Penalty):
    """Exact NNLS for H in blocks: all K loadings of the columns t ≡ p (mod L) at once.

    Column t of H touches data columns t … t+L−1 only, so the columns of one phase are
    independent K-variable problems min_{h ≥ 0} ½ hᵀ(G + l2 I)h − (b − l1)ᵀh with
    G = P[m_t, 0] and b = B[:, t] − Σ_{s≠0} P[m_t, s] H[:, t+s] (see :func:`motif_gram`).
    """
    L = W.shape[0]
    K, T = H.shape
    J, Bp, P, Hp = _strided_setup(X, W, H)
    others = P.at[:, L].set(0.0)                                         # drop s = 0: the block itself
    starts = jnp.arange(J) * L
    solve = jax.vmap(nnls_gram)

    def phase(p, Hp):
        last = (T - 1 - p) // L
        m = T - p - last * L
        window = _windows(Hp, p, J, L)
        b = jnp.einsum("skm,mjs->jk", others[L], window)
        b = b.at[last].set(jnp.einsum("skm,ms->k", others[m], window[:, last]))
        b = _at_phase(Bp, p, J, L).T - b - pen.l1
        G = jnp.broadcast_to(P[L, L], (J, K, K)).at[last].set(P[m, L]) + pen.l2 * jnp.eye(K)
        new = solve(G, b, window[:, :, L].T > 0).T
        return _set_loadings(Hp, p, jnp.where(p + starts < T, new, 0.0), J, L)

    Hp = jax.lax.fori_loop(0, L, phase, Hp)
    return Hp[:, L:L + T]


@jax.jit
def anls_step(X, W, H, pen_W: Penalty, pen_H: Penalty):
    """One ANLS iteration: the exact NNLS minimizer over W, then over H block by block."""
    W = _anls_W(X, W, H, pen_W)
    H = _anls_H(X, W, H, pen_H)
    return W, H, _loss(X, W, H)


STEPS = {"mu": mu_step, "hals": hals_step, "anls": anls_step}


# ----------------------------------------------------------------------------------------------
# Fitting
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CNMFResult:
    """A fitted CNMF model and its optimization trace.

    ``loss[i]`` is ½‖X − X̂‖²_F / ½‖X‖²_F after iteration i + 1 (``initial_loss`` before any);
    ``time[i]`` the cumulative wall-clock seconds spent in iterations 1 … i + 1, with the
    one-off compilation excluded: ``compile_time`` is what this call spent compiling (near 0
    when an earlier fit of the same method and shapes already compiled the step).
    """

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    time: np.ndarray
    initial_loss: float
    compile_time: float
    method: str

    def reconstruct(self) -> np.ndarray:
        """X̂ = Σ_l W_l S_l H for the fitted factors."""
        return reconstruct(self.W, self.H)


def initialize(X: np.ndarray, n_components: int, n_lags: int, seed: int) -> tuple[jax.Array, jax.Array]:
    """Uniform random W ≥ 0 and H ≥ 0 from ``runtime.key(seed)``, scaled so X̂ best matches X in size.

    X̂ → αX̂ with α = ⟨X, X̂⟩ / ‖X̂‖² (the best single scale); W and H each take √α. This is the
    paper's initialization (``init_rand`` in the authors' code), with JAX's random numbers.
    """
    X = _check_data(X)
    n_components = checks.integer("n_components", n_components)
    n_lags = checks.integer("n_lags", n_lags)
    N, T = X.shape
    key_W, key_H = jax.random.split(runtime.key(seed))
    W = jax.random.uniform(key_W, (n_lags, N, n_components))
    H = jax.random.uniform(key_H, (n_components, T))
    X_hat = _reconstruct(W, H)
    alpha = jnp.sum(X * X_hat) / jnp.sum(X_hat ** 2)
    return W * jnp.sqrt(alpha), H * jnp.sqrt(alpha)


@lru_cache(maxsize=64)
def _compiled(method: str, N: int, T: int, K: int, L: int):
    """The step for these shapes, compiled ahead of time once per process."""
    f32 = jax.ShapeDtypeStruct((), jnp.float32)
    shapes = (jax.ShapeDtypeStruct((N, T), jnp.float32), jax.ShapeDtypeStruct((L, N, K), jnp.float32),
              jax.ShapeDtypeStruct((K, T), jnp.float32), Penalty(f32, f32), Penalty(f32, f32))
    return STEPS[method].lower(*shapes).compile()


def fit(X, n_components: int, n_lags: int, *, method: str = "hals", max_iter: int = 100,
        tol: float = 1e-5, seed: int = 0, l1_W: float = 0.0, l1_H: float = 0.0,
        l2_W: float = 0.0, l2_H: float = 0.0, W_init=None, H_init=None) -> CNMFResult:
    """Fit X ≈ Σ_l W_l S_l H with ``method`` in ``"mu"``, ``"hals"``, ``"anls"``.

    Minimizes ½‖X − X̂‖²_F + l1_W‖W‖₁ + ½ l2_W‖W‖² + l1_H‖H‖₁ + ½ l2_H‖H‖² over W, H ≥ 0.
    Stops after ``max_iter`` iterations, or earlier when one iteration lowers the objective (the
    relative loss, plus the penalties divided by ½‖X‖² when there are any) by less than ``tol``
    times itself (``tol=0`` runs all ``max_iter``). The same ``seed`` gives
    every method the same starting point; ``W_init``/``H_init`` override it.
    """
    X = _check_data(X)
    n_components = checks.integer("n_components", n_components)
    n_lags = checks.integer("n_lags", n_lags)
    max_iter = checks.integer("max_iter", max_iter)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    N, T = X.shape
    if n_lags >= T:
        raise ValueError(f"n_lags must be smaller than the number of time bins T={T}, got {n_lags}")
    tol = checks.number("tol", tol, allow_zero=True)
    pen_W = Penalty(*(jnp.float32(checks.number(n, v, allow_zero=True)) for v, n in ((l1_W, "l1_W"), (l2_W, "l2_W"))))
    pen_H = Penalty(*(jnp.float32(checks.number(n, v, allow_zero=True)) for v, n in ((l1_H, "l1_H"), (l2_H, "l2_H"))))
    W, H = initialize(X, n_components, n_lags, seed)
    if W_init is not None:
        W = jnp.asarray(_as_float_array(W_init, "W_init", ndim=3))
        if W.shape != (n_lags, N, n_components) or np.any(W < 0):
            raise ValueError(f"W_init must be nonnegative with shape {(n_lags, N, n_components)}, got {W.shape}")
    if H_init is not None:
        H = jnp.asarray(_as_float_array(H_init, "H_init", ndim=2))
        if H.shape != (n_components, T) or np.any(H < 0):
            raise ValueError(f"H_init must be nonnegative with shape {(n_components, T)}, got {H.shape}")

    X = jnp.asarray(X)
    norm = 0.5 * float(jnp.sum(X ** 2))
    initial = 0.5 * float(jnp.sum((X - _reconstruct(W, H)) ** 2)) / norm
    start = time.perf_counter()
    step = _compiled(method, N, T, n_components, n_lags)
    compile_time = time.perf_counter() - start

    penalized = any(float(v) > 0 for v in (*pen_W, *pen_H))

    def objective(loss, W, H):
        """The relative loss plus, with penalties, l1‖·‖₁ + ½ l2‖·‖² of both factors over ½‖X‖²: what never increases."""
        if not penalized:
            return loss
        return loss + float(sum(pen.l1 * jnp.sum(F) + 0.5 * pen.l2 * jnp.sum(F ** 2)
                                for pen, F in ((pen_W, W), (pen_H, H)))) / norm

    losses, times = [], []
    elapsed = 0.0
    previous = objective(initial, W, H)
    for _ in range(max_iter):
        start = time.perf_counter()
        W, H, loss = step(X, W, H, pen_W, pen_H)
        loss = float(loss) / norm
        elapsed += time.perf_counter() - start
        if not np.isfinite(loss):
            raise FloatingPointError(f"{method} diverged: the loss became {loss} at iteration {len(losses) + 1}")
        losses.append(loss)
        times.append(elapsed)
        current = objective(loss, W, H)
        if tol > 0 and previous - current < tol * previous:
            break
        previous = current
    return CNMFResult(W=np.asarray(W), H=np.asarray(H), loss=np.asarray(losses), time=np.asarray(times),
                      initial_loss=initial, compile_time=compile_time, method=method)


def seqnmf_fit(X, W_init, H_init, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """The PyPI package ``seqnmf``'s multiplicative updates from our starting factors, as a reference.

    Runs seqNMF with no x-ortho or ℓ1 penalty (``Lambda=0``), no factor shifting or sorting, for
    ``max_iter`` iterations from ``W_init`` (L, N, K) and ``H_init`` (K, T). Returns our relative
    loss ½‖X − X̂‖²/½‖X‖² after each iteration (converted from seqNMF's RMSE over its zero-padded
    N × (T + 2L) matrix) and cumulative seconds, the call's wall-clock time spread evenly over
    its iterations (seqNMF does not time them). Raises ImportError when ``seqnmf`` is missing.
    """
    from seqnmf import seqnmf

    X = _check_data(X).astype(np.float64)
    W_init = _as_float_array(W_init, "W_init", ndim=3).astype(np.float64)
    H_init = _as_float_array(H_init, "H_init", ndim=2).astype(np.float64)
    L, N, K = W_init.shape
    if X.shape != (N, H_init.shape[1]) or H_init.shape[0] != K:
        raise ValueError(f"W_init {W_init.shape} and H_init {H_init.shape} do not fit X {X.shape}")
    max_iter = checks.integer("max_iter", max_iter)
    T = X.shape[1]
    start = time.perf_counter()
    _, _, cost, _, _ = seqnmf(X, K=K, L=L, Lambda=0.0, W_init=W_init.transpose(1, 2, 0), H_init=np.pad(H_init, ((0, 0), (L, L))),
                              max_iter=max_iter, shift=False, sort_factors=False)
    seconds = time.perf_counter() - start
    loss = np.ravel(cost)[1:] ** 2 * N * (T + 2 * L) / np.sum(X ** 2)
    return loss, seconds * np.arange(1, len(loss) + 1) / len(loss)


# ----------------------------------------------------------------------------------------------
# Synthetic sequences and motif recovery
# ----------------------------------------------------------------------------------------------

class SyntheticSequences(NamedTuple):
    """Planted data: ``X = max(0, Σ_l W_l S_l H + noise)``, with the planted ``W`` and ``H``."""

    X: np.ndarray
    W: np.ndarray
    H: np.ndarray


def _with_events(W: np.ndarray, rng: np.random.Generator, n_time: int, event_rate: float,
                 noise: float) -> SyntheticSequences:
    """Motif k starts at t with amplitude H[k, t] ~ Exponential(1) with probability ``event_rate``;
    X = max(0, Σ_l W_l S_l H + N(0, noise²))."""
    n_neurons, n_components = W.shape[1:]
    H = (rng.exponential(size=(n_components, n_time))
         * (rng.random((n_components, n_time)) < event_rate)).astype(np.float32)
    X = np.maximum(0.0, reconstruct(W, H) + noise * rng.standard_normal((n_neurons, n_time)))
    return SyntheticSequences(X.astype(np.float32), W, H)


def synthetic_sequences(n_neurons: int = 100, n_components: int = 3, n_lags: int = 20, n_time: int = 1000,
                        *, participation: float = 0.1, event_rate: float = 0.1, width: float = 0.15,
                        noise: float = 0.1, seed: int = 0) -> SyntheticSequences:
    """The paper's synthetic benchmark: K sequences of L lags, sparse loadings, rectified noise.

    Each neuron splits its membership across the K motifs by a Dirichlet(``participation``)
    draw (small: each neuron belongs to about one motif) and fires a bump at a random point of
    the motif: the Gaussian *density* of standard deviation ``width`` over the lags rescaled to
    [−1, 1], as in the paper's generator (peak 1/(width √(2π)), ≈ 2 at width 0.2). Motif k starts
    at time t with amplitude H[k, t] ~ Exponential(1) with probability ``event_rate``; Gaussian
    noise of standard deviation ``noise`` is added and the result clipped at zero.
    """
    for name, value in (("n_neurons", n_neurons), ("n_components", n_components), ("n_lags", n_lags),
                        ("n_time", n_time)):
        checks.integer(name, value)
    if n_lags >= n_time:
        raise ValueError(f"n_lags must be smaller than n_time={n_time}, got {n_lags}")
    checks.number("participation", participation)
    if not 0 < event_rate <= 1:
        raise ValueError(f"event_rate must be in (0, 1], got {event_rate}")
    checks.number("width", width)
    checks.number("noise", noise, allow_zero=True)
    rng = runtime.rng(seed)
    weight = rng.dirichlet(np.full(n_components, float(participation)), size=n_neurons)    # (N, K)
    centre = rng.uniform(-1.0, 1.0, size=(n_neurons, n_components))
    lag = np.linspace(-1.0, 1.0, n_lags)[:, None, None]
    density = np.exp(-0.5 * ((lag - centre) / width) ** 2) / (width * np.sqrt(2.0 * np.pi))
    W = (weight * density).astype(np.float32)                                              # (L, N, K)
    return _with_events(W, rng, n_time, event_rate, noise)


def ordered_sequences(n_neurons: int = 60, n_components: int = 3, n_members: int = 12, n_lags: int = 20,
                      n_time: int = 2000, *, event_rate: float = 0.01, noise: float = 0.01,
                      seed: int = 0) -> SyntheticSequences:
    """Disjoint sequences of neurons firing in order: a harder landscape than the paper's bumps.

    Motif k is neurons k·M … (k+1)·M − 1 (M = ``n_members``; the remaining neurons only carry
    noise), its j-th member firing with weight 1 at lag round(j (L − 1)/(M − 1)). Motif k starts
    at t with amplitude H[k, t] ~ Exponential(1) with probability ``event_rate`` (rare events:
    most time bins hold no sequence); Gaussian noise of standard deviation ``noise`` is added
    and the result clipped at zero.
    """
    for name, value in (("n_neurons", n_neurons), ("n_components", n_components), ("n_members", n_members),
                        ("n_lags", n_lags), ("n_time", n_time)):
        checks.integer(name, value)
    if n_members < 2 or n_components * n_members > n_neurons:
        raise ValueError(f"n_members must be at least 2 and n_components × n_members at most n_neurons="
                         f"{n_neurons}, got n_members={n_members}")
    if n_lags >= n_time:
        raise ValueError(f"n_lags must be smaller than n_time={n_time}, got {n_lags}")
    if not 0 < event_rate <= 1:
        raise ValueError(f"event_rate must be in (0, 1], got {event_rate}")
    checks.number("noise", noise, allow_zero=True)
    rng = runtime.rng(seed)
    W = np.zeros((n_lags, n_neurons, n_components), np.float32)
    lags = np.round(np.arange(n_members) * (n_lags - 1) / (n_members - 1)).astype(int)
    for k in range(n_components):
        W[lags, k * n_members + np.arange(n_members), k] = 1.0
    return _with_events(W, rng, n_time, event_rate, noise)


class MotifMatch(NamedTuple):
    """Planted motifs matched one-to-one to fitted ones.

    ``score``: mean similarity of the matched pairs (1 = every planted motif found exactly);
    ``similarity[i]``: that of planted motif i with its match ``assignment[i]``;
    ``matrix``: all pairwise similarities (planted × fitted); ``shift[i]``: the lag offset of
    the match.
    """

    score: float
    similarity: np.ndarray
    assignment: np.ndarray
    shift: np.ndarray
    matrix: np.ndarray


def motif_similarity(W_true, W_est) -> MotifMatch:
    """Match fitted motifs to planted ones and report how alike they are.

    The similarity of motifs a and b (each L × N) is their cosine similarity maximized over a
    relative lag shift s, max_s ⟨a, S_s b⟩ / (‖a‖‖b‖): a motif is only defined up to where in
    its window it starts, since W_l → W_{l+s} with H → S_{−s}H gives the same X̂. Pairs are
    matched by the optimal assignment (Hungarian algorithm) on that matrix, as in seqNMF's
    evaluation (Mackevicius et al. 2019). ``W_est`` may have a different K or L.
    """
    A = _as_float_array(W_true, "W_true", ndim=3).astype(np.float64)
    B = _as_float_array(W_est, "W_est", ndim=3).astype(np.float64)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"W_true has {A.shape[1]} neurons but W_est has {B.shape[1]}")
    if np.any(A < 0) or np.any(B < 0):
        raise ValueError("motifs must be nonnegative")
    La, Lb = A.shape[0], B.shape[0]
    # cross-correlation along lags: corr[s, i, j] = Σ_{l,n} A[l, n, i] B[l − s, n, j], B = 0 outside its window
    padded = np.pad(B, ((La, La), (0, 0), (0, 0)))
    shifts = np.arange(-(Lb - 1), La)
    windows = np.stack([padded[La - s: 2 * La - s] for s in shifts])
    corr = np.einsum("lni,slnj->sij", A, windows)
    norms = np.sqrt(np.einsum("lni,lni->i", A, A))[:, None] * np.sqrt(np.einsum("lnj,lnj->j", B, B))[None, :]
    corr = corr / np.maximum(norms, 1e-300)
    matrix = corr.max(0)
    best_shift = shifts[corr.argmax(0)]
    rows, cols = linear_sum_assignment(-matrix)
    order = np.argsort(rows)
    rows, cols = rows[order], cols[order]
    similarity = np.zeros(A.shape[2])
    assignment = np.full(A.shape[2], -1)
    shift = np.zeros(A.shape[2], dtype=int)
    similarity[rows] = matrix[rows, cols]
    assignment[rows] = cols
    shift[rows] = best_shift[rows, cols]
    return MotifMatch(score=float(similarity.mean()), similarity=similarity, assignment=assignment,
                      shift=shift, matrix=matrix)
