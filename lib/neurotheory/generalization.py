"""Generalization dynamics and transfer in deep linear networks, from random-matrix theory.

Lampinen & Ganguli, *An analytic theory of generalization dynamics and transfer learning in
deep linear networks*, ICLR 2019 (arXiv:1809.10374).

A teacher W̄ = Σ_α s̄_α ū_α v̄_αᵀ (N₃ × N₁, rank N̄₂; the s̄_α are the SNRs) makes noisy data:
with whitened inputs (Σ¹¹ = I, one-hot inputs, P = N₁) a student sees only

    Σ³¹ = W̄ + Z,   Z iid N(0, σ_z²/N₁),  σ_z = 1,   A = N₃/N₁ ≤ 1.

A one-hidden-layer student trained from small weights aligned with the data's own modes
learns each data mode (ŝ, û, v̂) on its own sigmoid (:func:`neurotheory.deeplinear.mode_strength`),
so its errors follow from three random-matrix facts: where a teacher mode's singular value
lands in the data (:func:`data_singular_value`), how well the data's singular vectors still
point at the teacher's (:func:`overlap`), and the Marchenko–Pastur bulk of the pure-noise
modes (:func:`marchenko_pastur`). Time is t/τ with τ = 1/lr; ``a0`` is ε, the starting
strength of each mode of the product W³²W²¹ (not a weight standard deviation).

Contents: the random-matrix results (:func:`data_singular_value`, :func:`overlap`,
:func:`marchenko_pastur`, :func:`noise_singular_values`, :func:`estimate_s_bar`); learning
curves (:func:`error_curves`, :func:`optimal_stopping`); the non-gradient algorithm
(:func:`optimal_shrinkage`, :func:`shrinkage_test_error`); transfer between two tasks
trained jointly (:func:`joint_modes`, :func:`joint_test_error`, :func:`transfer_benefit`);
sampling (:func:`sample_task`, :func:`sample_joint_tasks`, :func:`sample_examples`,
:func:`one_hot_examples`) and simulation (:func:`simulate_student`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from neurotheory import checks, deeplinear, runtime
from neurotheory.deeplinear import mode_strength


# ----------------------------------------------------------------------------- validation

def _values(name: str, value, *, ndim: int | None = None, non_negative: bool = True) -> np.ndarray:
    """Finite (by default non-negative) float64 values, checked as in :mod:`deeplinear`."""
    return deeplinear._array(name, value, ndim=ndim, non_negative=non_negative)


def _aspect(A) -> float:
    """The aspect ratio A = N₃/N₁, in (0, 1]."""
    A = checks.number("A", A)
    if A > 1:
        raise ValueError(f"A = N₃/N₁ must be at most 1 (no more outputs than inputs), got {A}")
    return A


def _snrs(s_bars, n_out: int) -> np.ndarray:
    """Teacher singular values: 1-D, non-negative, not all zero, at most ``n_out`` of them."""
    s_bars = _values("s_bars", np.atleast_1d(s_bars), ndim=1)
    if not np.any(s_bars > 0):
        raise ValueError("s_bars must hold at least one positive singular value")
    if s_bars.size > n_out:
        raise ValueError(f"s_bars has {s_bars.size} values, more than n_out = {n_out} modes")
    return np.sort(s_bars)[::-1]


def _sizes(n_in, n_out, n_hidden) -> tuple[int, int, int, float]:
    n_in = checks.integer("n_in", n_in)
    n_out = checks.integer("n_out", n_out)
    n_hidden = n_out if n_hidden is None else checks.integer("n_hidden", n_hidden)
    if n_out > n_in:
        raise ValueError(f"n_out ({n_out}) must not exceed n_in ({n_in}): the theory needs "
                         "A = N₃/N₁ ≤ 1")
    return n_in, n_out, n_hidden, n_out / n_in


# ----------------------------------------------------------------------------- random matrices

def bulk_edge(A=1.0) -> float:
    """Largest singular value of pure noise Z (N₃ × N₁, variance 1/N₁): 1 + √A."""
    return 1.0 + np.sqrt(_aspect(A))


def _detectable(s_bar: np.ndarray, A: float) -> np.ndarray:
    return s_bar > A ** 0.25


def data_singular_value(s_bar, A=1.0) -> np.ndarray:
    """Where a teacher singular value s̄ lands in the data Σ³¹ = W̄ + Z, the paper's ŝ(s̄):

    ŝ(s̄) = √((1 + s̄²)(A + s̄²)) / s̄   for s̄ > A^{1/4},   else the bulk edge 1 + √A.

    Noise always inflates a detectable mode (ŝ > s̄); below the detection threshold
    s̄ = A^{1/4} the mode is lost in the Marchenko–Pastur bulk.
    """
    s_bar = _values("s_bar", s_bar)
    A = _aspect(A)
    safe = np.where(_detectable(s_bar, A), s_bar, 1.0)
    return np.where(_detectable(s_bar, A), np.sqrt((1 + safe ** 2) * (A + safe ** 2)) / safe,
                    1.0 + np.sqrt(A))


def overlaps(s_bar, A=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Output and input overlaps of a data mode with its teacher mode, the paper's O(s̄):

    O_out = |ûᵀū| = [1 − A(1 + s̄²) / (s̄²(A + s̄²))]^{1/2},
    O_in  = |v̂ᵀv̄| = [1 − (A + s̄²) / (s̄²(1 + s̄²))]^{1/2},

    both 0 at or below s̄ = A^{1/4}.
    """
    s_bar = _values("s_bar", s_bar)
    A = _aspect(A)
    detectable = _detectable(s_bar, A)
    s2 = np.where(detectable, s_bar, 1.0) ** 2
    o_out = np.sqrt(np.clip(1 - A * (1 + s2) / (s2 * (A + s2)), 0.0, 1.0))
    o_in = np.sqrt(np.clip(1 - (A + s2) / (s2 * (1 + s2)), 0.0, 1.0))
    return np.where(detectable, o_out, 0.0), np.where(detectable, o_in, 0.0)


def overlap(s_bar, A=1.0) -> np.ndarray:
    """O(s̄) = O_out · O_in = (ûᵀū)(v̂ᵀv̄): how much of a data mode is its teacher's mode."""
    o_out, o_in = overlaps(s_bar, A)
    return o_out * o_in


def marchenko_pastur(x, A=1.0) -> np.ndarray:
    """Density of the noise singular values, 0 outside the bulk:

    ρ(x) = √(4A − (x² − (1 + A))²) / (π A x)   on [1 − √A, 1 + √A].

    It is the Marchenko–Pastur law for the eigenvalues x² of ZZᵀ, written for x.
    """
    x = _values("x", x, non_negative=False)
    A = _aspect(A)
    inside = (x > 1 - np.sqrt(A)) & (x < 1 + np.sqrt(A))
    safe = np.where(inside, x, 1.0)
    return np.where(inside, np.sqrt(np.clip(4 * A - (safe ** 2 - 1 - A) ** 2, 0.0, None))
                    / (np.pi * A * safe), 0.0)


def noise_singular_values(n_modes: int, A=1.0) -> np.ndarray:
    """``n_modes`` typical noise singular values: the quantiles F⁻¹((j − ½)/n), j = 1 … n, of ρ.

    A sum over them, Σ_j f(x_j), is the midpoint rule for n ∫ ρ(x) f(x) dx (in the
    cumulative distribution F), and the largest k of them are the k strongest noise modes,
    which is what a hidden layer narrower than N₃ keeps. Descending order.
    """
    n_modes = checks.integer("n_modes", n_modes, minimum=0)
    A = _aspect(A)
    theta = np.linspace(0.0, np.pi, 4097)
    lo, hi = 1 - np.sqrt(A), 1 + np.sqrt(A)
    x = (lo + hi) / 2 - (hi - lo) / 2 * np.cos(theta)         # dense near both edges
    dF = marchenko_pastur(x, A) * (hi - lo) / 2 * np.sin(theta)
    F = np.concatenate([[0.0], np.cumsum((dF[1:] + dF[:-1]) / 2 * np.diff(theta))])
    return np.interp((np.arange(n_modes, 0, -1) - 0.5) / n_modes, F / F[-1], x)


def estimate_s_bar(s_hat, A=1.0) -> np.ndarray:
    """Invert :func:`data_singular_value`: the teacher singular value behind a data one.

    s̄ is the larger root of s̄⁴ + (1 + A − ŝ²) s̄² + A = 0,
    s̄² = [ŝ² − 1 − A + √((ŝ² − 1 − A)² − 4A)] / 2, for ŝ above the bulk edge 1 + √A;
    0 at or below it (the first step of the paper's non-gradient learner).
    """
    s_hat = _values("s_hat", s_hat)
    A = _aspect(A)
    b = s_hat ** 2 - 1 - A
    above = s_hat > 1 + np.sqrt(A)
    root = (b + np.sqrt(np.clip(b ** 2 - 4 * A, 0.0, None))) / 2
    return np.where(above, np.sqrt(np.where(above, root, 0.0)), 0.0)


# ----------------------------------------------------------------------------- learning curves

@dataclass(frozen=True)
class ErrorCurves:
    """Normalized train and test error of the student at times ``t`` (units of τ × ``tau``)."""

    t: np.ndarray
    train: np.ndarray
    test: np.ndarray


def error_curves(s_bars, t, *, n_in: int = 100, n_out: int = 100, n_hidden: int | None = None,
                 a0: float = 1e-5, tau: float = 1.0) -> ErrorCurves:
    """Train and test error of a training-aligned student over time (the paper's theory).

    Each data mode is learned along s(t) = ŝ e^{2ŝt/τ} / (e^{2ŝt/τ} − 1 + ŝ/a₀): the N̄₂
    teacher modes from ŝ_α = :func:`data_singular_value`, the N₃ − N̄₂ noise modes from the
    Marchenko–Pastur bulk (:func:`noise_singular_values`). Then

    test  = [Σ_α (s_α² − 2 s_α s̄_α O_α + s̄_α²) + (N₃ − N̄₂) ∫ ρ(x) s(t, x)² dx] / Σ_α s̄_α²,
    train = [Σ_α (ŝ_α − s_α)² + (N₃ − N̄₂) ∫ ρ(x) (x − s(t, x))² dx]
            / [Σ_α ŝ_α² + (N₃ − N̄₂) ∫ ρ(x) x² dx],

    test = ‖W̄ − W(t)‖²/Σ s̄², train = ‖Σ³¹ − W(t)‖²/‖Σ³¹‖². A hidden layer of ``n_hidden``
    < N₃ units holds only the strongest ``n_hidden`` modes; the rest stay at 0. The train
    error is always normalized by all N₃ − N̄₂ noise modes of the data (the authors' script
    uses min(N₂, N₃) − N̄₂, wrong when N₂ < N₃).
    """
    n_in, n_out, n_hidden, A = _sizes(n_in, n_out, n_hidden)
    s_bars = _snrs(s_bars, n_out)
    t = _values("t", t, ndim=1)
    a0 = checks.number("a0", a0)
    tau = checks.number("tau", tau)
    capacity = min(n_hidden, n_out)
    s_hat = data_singular_value(s_bars, A)
    noise = noise_singular_values(n_out - s_bars.size, A)
    learned = np.arange(s_bars.size + noise.size) < capacity        # strongest modes first
    strength = mode_strength(t[:, None], np.concatenate([s_hat, noise]), a0, tau) * learned
    signal, noise_strength = strength[:, :s_bars.size], strength[:, s_bars.size:]
    test = (np.sum(signal ** 2 - 2 * signal * s_bars * overlap(s_bars, A) + s_bars ** 2, axis=1)
            + np.sum(noise_strength ** 2, axis=1)) / np.sum(s_bars ** 2)
    train = ((np.sum((s_hat - signal) ** 2, axis=1) + np.sum((noise - noise_strength) ** 2, axis=1))
             / (np.sum(s_hat ** 2) + np.sum(noise ** 2)))
    return ErrorCurves(t, train, test)


def _earliest_time_scale(a0: float, tau: float, A: float) -> float:
    """A time by which the bulk edge's noise modes are learned: 3 t½ at ŝ = 1 + √A."""
    edge = 1 + np.sqrt(A)
    return 3 * tau * np.log1p(edge / a0) / (2 * edge)


def _minimum_over_time(test_error, t_end: float) -> tuple[float, float]:
    """Global minimum of ``test_error(t)`` on [0, t_end]: a 2001-point grid, then Brent."""
    grid = np.linspace(0.0, t_end, 2001)
    errors = test_error(grid)
    k = int(np.argmin(errors))
    best = optimize.minimize_scalar(lambda t: float(test_error(np.array([t]))[0]),
                                    bounds=(grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]),
                                    method="bounded", options={"xatol": 1e-9 * t_end})
    if best.fun < errors[k]:
        return float(best.x), float(best.fun)
    return float(grid[k]), float(errors[k])


def optimal_stopping(s_bars, *, n_in: int = 100, n_out: int = 100, n_hidden: int | None = None,
                     a0: float = 1e-5, tau: float = 1.0) -> tuple[float, float]:
    """The early-stopping time t_opt = argmin_t test(t) and the test error there.

    Searched on [0, 3 t½(1 + √A)] (past it the noise bulk is learned and the test error only
    grows), by a grid and then Brent's method on :func:`error_curves`.
    """
    n_in, n_out, n_hidden, A = _sizes(n_in, n_out, n_hidden)
    a0 = checks.number("a0", a0)
    tau = checks.number("tau", tau)
    s_bars = _snrs(s_bars, n_out)
    curve = lambda t: error_curves(s_bars, t, n_in=n_in, n_out=n_out, n_hidden=n_hidden,
                                   a0=a0, tau=tau).test
    return _minimum_over_time(curve, _earliest_time_scale(a0, tau, A))


# ----------------------------------------------------------------------------- the non-gradient algorithm

def optimal_shrinkage(sigma_yx) -> np.ndarray:
    """The paper's non-gradient learner: keep the data's singular vectors,
    replace each singular value ŝ > 1 + √A by s̄·O(s̄) with s̄ = :func:`estimate_s_bar`(ŝ),
    all others by 0:

    W = Σ_{ŝ_α > 1+√A} s̄(ŝ_α) O(s̄(ŝ_α)) û_α v̂_αᵀ.

    s̄·O is the value that minimizes s² − 2 s s̄ O, each mode's share of ‖W̄ − W‖².
    ``sigma_yx`` is the (n_out × n_in) data Σ³¹ with noise variance 1/n_in, n_out ≤ n_in.
    """
    try:
        sigma_yx = np.asarray(sigma_yx, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError("sigma_yx must be a matrix of numbers") from err
    if sigma_yx.ndim != 2 or sigma_yx.size == 0:
        raise ValueError(f"sigma_yx must be a non-empty (n_out, n_in) matrix, got shape {sigma_yx.shape}")
    if not np.all(np.isfinite(sigma_yx)):
        raise ValueError("sigma_yx has NaN or infinite values")
    n_out, n_in = sigma_yx.shape
    if n_out > n_in:
        raise ValueError(f"sigma_yx must have no more rows than columns (A ≤ 1), got {sigma_yx.shape}")
    A = n_out / n_in
    U, s_hat, Vt = np.linalg.svd(sigma_yx, full_matrices=False)
    s_bar = estimate_s_bar(s_hat, A)
    return (U * (s_bar * overlap(s_bar, A))) @ Vt


def shrinkage_test_error(s_bars, A=1.0) -> float:
    """Theory test error of :func:`optimal_shrinkage`: Σ_α s̄_α² (1 − O_α²) / Σ_α s̄_α²."""
    A = _aspect(A)
    s_bars = _values("s_bars", np.atleast_1d(s_bars), ndim=1)
    if not np.any(s_bars > 0):
        raise ValueError("s_bars must hold at least one positive singular value")
    return float(np.sum(s_bars ** 2 * (1 - overlap(s_bars, A) ** 2)) / np.sum(s_bars ** 2))


# ----------------------------------------------------------------------------- transfer

def _pair(s_bar_a, s_bar_b, q) -> tuple[float, float, float]:
    s_bar_a = checks.number("s_bar_a", s_bar_a)
    s_bar_b = checks.number("s_bar_b", s_bar_b, allow_zero=True)
    if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)):
        raise TypeError(f"q must be a number, got {type(q).__name__}")
    if not np.isfinite(q) or abs(q) > 1:
        raise ValueError(f"q is an overlap of unit vectors and must lie in [−1, 1], got {q}")
    return s_bar_a, s_bar_b, float(abs(q))


def joint_modes(s_bar_a, s_bar_b, q) -> tuple[np.ndarray, np.ndarray]:
    """Singular values of the joint teacher and each mode's share in task A's outputs.

    Two rank-1 tasks W̄_A = s̄_A u_A v_Aᵀ, W̄_B = s̄_B u_B v_Bᵀ with v_Aᵀv_B = q, outputs stacked:
    W̄_J = [W̄_A; W̄_B]. In the basis (u_A, u_B),

    W̄_J W̄_Jᵀ = [[s̄_A², q s̄_A s̄_B], [q s̄_A s̄_B, s̄_B²]],

    whose eigenvalues are σ_k² and whose eigenvectors (c_kA, c_kB) give the task-A share
    c_kA² = ‖P_A u_k‖². Returns (σ descending, c_A²).
    """
    s_bar_a, s_bar_b, q = _pair(s_bar_a, s_bar_b, q)
    eigenvalues, vectors = np.linalg.eigh(np.array([[s_bar_a ** 2, q * s_bar_a * s_bar_b],
                                                    [q * s_bar_a * s_bar_b, s_bar_b ** 2]]))
    return np.sqrt(np.clip(eigenvalues[::-1], 0.0, None)), vectors[0, ::-1] ** 2


def joint_test_error(s_bar_a, s_bar_b, q, t, *, n_in: int = 100, n_out: int = 50,
                     a0: float = 1e-5, tau: float = 1.0) -> np.ndarray:
    """Task A's test error ‖W̄_A − P_A W_J(t)‖²/s̄_A² when A and B (``n_out`` outputs each)
    are learned jointly from Σ³¹_J = W̄_J + Z, A_J = 2 n_out/n_in ≤ 1.

    Each joint data mode k (σ_k, c_kA² from :func:`joint_modes`) is learned along s_k(t)
    from ŝ_k = ŝ(σ_k; A_J); its output vector û_k = O_out,k u_k + (isotropic rest), half of
    whose rest lies in A's outputs; the 2 n_out − 2 noise modes put half their strength there:

    E_A(t) = [s̄_A² − 2 Σ_k σ_k O_k c_kA² s_k + Σ_k s_k² (O_out,k² c_kA² + (1 − O_out,k²)/2)
              + ½ (2N₃ − 2) ∫ ρ_{A_J}(x) s(t, x)² dx] / s̄_A².
    """
    s_bar_a, s_bar_b, q = _pair(s_bar_a, s_bar_b, q)
    n_in, n_joint, _, A_joint = _sizes(n_in, 2 * checks.integer("n_out", n_out), None)
    t = _values("t", t, ndim=1)
    a0 = checks.number("a0", a0)
    tau = checks.number("tau", tau)
    sigma, share = joint_modes(s_bar_a, s_bar_b, q)
    o_out, o_in = overlaps(sigma, A_joint)
    s = mode_strength(t[:, None], data_singular_value(sigma, A_joint), a0, tau)
    noise = mode_strength(t[:, None], noise_singular_values(n_joint - 2, A_joint), a0, tau)
    return (s_bar_a ** 2 - 2 * np.sum(sigma * o_out * o_in * share * s, axis=1)
            + np.sum(s ** 2 * (o_out ** 2 * share + (1 - o_out ** 2) / 2), axis=1)
            + np.sum(noise ** 2, axis=1) / 2) / s_bar_a ** 2


def transfer_benefit(s_bar_a, s_bar_b, q, *, n_in: int = 100, n_out: int = 50,
                     a0: float = 1e-5, tau: float = 1.0) -> float:
    """T^{A←B} = min_t E_A,alone(t) − min_t E_A,joint(t) (the paper's transfer benefit).

    Positive: training with task B helps task A; negative: it interferes. Both minima are
    the best early-stopped test errors of task A, alone (:func:`optimal_stopping` on
    [s̄_A], A = n_out/n_in) and jointly (:func:`joint_test_error`, A_J = 2 n_out/n_in).
    """
    s_bar_a, s_bar_b, q = _pair(s_bar_a, s_bar_b, q)
    _, alone = optimal_stopping([s_bar_a], n_in=n_in, n_out=n_out, a0=a0, tau=tau)
    curve = lambda t: joint_test_error(s_bar_a, s_bar_b, q, t, n_in=n_in, n_out=n_out,
                                       a0=a0, tau=tau)
    _, joint = _minimum_over_time(curve, _earliest_time_scale(a0, tau, 2 * n_out / n_in))
    return alone - joint


# ----------------------------------------------------------------------------- sampling

def _orthonormal(generator: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.linalg.qr(generator.standard_normal((n, k)))[0]


def sample_task(s_bars, n_in: int, n_out: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random teacher W̄ = U diag(s̄) Vᵀ (Haar-random orthonormal U, V) and its data
    Σ³¹ = W̄ + Z, Z iid N(0, 1/n_in). Returns (teacher, data), each (n_out, n_in)."""
    n_in, n_out, _, _ = _sizes(n_in, n_out, None)
    s_bars = _values("s_bars", np.atleast_1d(s_bars), ndim=1)
    if s_bars.size > n_out:
        raise ValueError(f"s_bars has {s_bars.size} values, more than n_out = {n_out} modes")
    generator = runtime.rng(seed)
    teacher = (_orthonormal(generator, n_out, s_bars.size) * s_bars) \
        @ _orthonormal(generator, n_in, s_bars.size).T
    return teacher, teacher + generator.standard_normal((n_out, n_in)) / np.sqrt(n_in)


def sample_joint_tasks(s_bar_a, s_bar_b, q, n_in: int, n_out: int, *,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two rank-1 tasks with input overlap v_Aᵀv_B = q, stacked: the joint teacher
    [s̄_A u_A v_Aᵀ; s̄_B u_B v_Bᵀ] and its data (+ Z, iid N(0, 1/n_in)), each (2 n_out, n_in).
    Task A is the first ``n_out`` rows; alone, its data are those rows."""
    s_bar_a, s_bar_b, q = _pair(s_bar_a, s_bar_b, q)
    n_in, n_joint, _, _ = _sizes(n_in, 2 * checks.integer("n_out", n_out), None)
    generator = runtime.rng(seed)
    v = _orthonormal(generator, n_in, 2)
    v_a, v_b = v[:, 0], q * v[:, 0] + np.sqrt(1 - q ** 2) * v[:, 1]
    u_a, u_b = _orthonormal(generator, n_out, 1)[:, 0], _orthonormal(generator, n_out, 1)[:, 0]
    teacher = np.concatenate([s_bar_a * np.outer(u_a, v_a), s_bar_b * np.outer(u_b, v_b)])
    return teacher, teacher + generator.standard_normal((n_joint, n_in)) / np.sqrt(n_in)


def sample_examples(s_bars, n_in: int, n_out: int, n_examples: int, *,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P = ``n_examples`` ≥ n_in examples y_μ = W̄ x_μ + z_μ, z_μ iid N(0, I), with whitened
    inputs X = √P Q (Q: P × n_in, orthonormal columns, so XᵀX/P = I). Then
    Σ_yx = YᵀX/P = W̄ + Z with Z iid N(0, 1/P): the SNR of P = N₁ examples times √(P/N₁).
    Returns (teacher, X, Y)."""
    n_in, n_out, _, _ = _sizes(n_in, n_out, None)
    n_examples = checks.integer("n_examples", n_examples, minimum=n_in)
    teacher, _ = sample_task(s_bars, n_in, n_out, seed=seed)
    generator = runtime.rng(seed + 1)
    X = np.sqrt(n_examples) * _orthonormal(generator, n_examples, n_in)
    return teacher, X, X @ teacher.T + generator.standard_normal((n_examples, n_out))


def one_hot_examples(data) -> tuple[np.ndarray, np.ndarray]:
    """The P = N₁ examples behind Σ³¹ = ``data``: X = √N₁ I (one-hot, Σ¹¹ = I), Y = X Σ³¹ᵀ."""
    data = _values("data", data, ndim=2, non_negative=False)
    X = np.sqrt(data.shape[1]) * np.eye(data.shape[1])
    return X, X @ data.T


@dataclass(frozen=True)
class StudentRun(ErrorCurves):
    """Measured :class:`ErrorCurves` of a trained student, and its map W(t): (records, n_out, n_in)."""

    product: np.ndarray


def simulate_student(teacher, X, Y, *, t_max: float, n_hidden: int | None = None,
                     a0: float = 1e-5, lr: float = 0.01, n_records: int = 100,
                     aligned: bool = True, seed: int = 0) -> StudentRun:
    """Train a one-hidden-layer student on (X, Y) by gradient descent and measure its errors.

    The loss is summed over examples in units of N₁ examples, L = (1/2N₁) Σ_μ ‖y_μ − W x_μ‖²,
    so an epoch of P = D N₁ examples moves D times as far (the paper's setting: the theory
    then holds with s̄√D, a₀√D and τ/√D); τ = 1/``lr`` and t is in units of τ. ``aligned``
    starts from :func:`neurotheory.deeplinear.decoupled_weights` on the data's own strongest
    ``n_hidden`` modes, each of strength ``a0``; otherwise from iid weights of standard
    deviation √(2 a₀/n_hidden), which give each mode about the same a₀. Returns the measured
    test ‖W̄ − W‖²/‖W̄‖² and train ‖Σ_yx − W‖²/‖Σ_yx‖² (Σ_yx = YᵀX/P) at ``n_records`` + 1 times.
    """
    teacher = _values("teacher", teacher, ndim=2, non_negative=False)
    X = _values("X", X, ndim=2, non_negative=False)
    Y = _values("Y", Y, ndim=2, non_negative=False)
    if teacher.shape != (Y.shape[1], X.shape[1]):
        raise ValueError(f"teacher must be (n_out, n_in) = {(Y.shape[1], X.shape[1])}, "
                         f"got {teacher.shape}")
    n_hidden = teacher.shape[0] if n_hidden is None else checks.integer("n_hidden", n_hidden)
    t_max = checks.number("t_max", t_max)
    a0 = checks.number("a0", a0)
    lr = checks.number("lr", lr)
    n_records = checks.integer("n_records", n_records)
    D = X.shape[0] / X.shape[1]
    record_every = max(1, int(np.ceil(t_max / lr / n_records)))
    if aligned:
        modes = deeplinear.input_output_modes(X, Y)
        k = min(n_hidden, modes.s.size)
        modes = deeplinear.Modes(modes.U[:, :k], modes.s[:k], modes.V[:, :k])
        start = dict(init_scale=0.0, initial_weights=deeplinear.decoupled_weights(
            modes, n_hidden, a0, seed=seed))
    else:
        start = dict(init_scale=float(np.sqrt(2 * a0 / n_hidden)), seed=seed)
    run = deeplinear.train_deep_linear(X, Y, n_hidden, lr=D * lr, steps=record_every * n_records,
                                       record_every=record_every, **start)
    sigma_yx = Y.T @ X / X.shape[0]
    test = np.sum((teacher - run.product) ** 2, axis=(1, 2)) / np.sum(teacher ** 2)
    train = np.sum((sigma_yx - run.product) ** 2, axis=(1, 2)) / np.sum(sigma_yx ** 2)
    return StudentRun(run.t / D, train, test, run.product)


def simulate_transfer(s_bar_a, s_bar_b, q, *, n_in: int = 100, n_out: int = 50,
                      t_max: float = 8.0, a0: float = 1e-5, lr: float = 0.01,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Task A's test error over time, trained alone and jointly with B (aligned students on
    the same noisy data, :func:`sample_joint_tasks`). Returns (t, E_alone, E_joint); the
    simulated T^{A←B} is min E_alone − min E_joint."""
    s_bar_a, s_bar_b, q = _pair(s_bar_a, s_bar_b, q)
    teacher, data = sample_joint_tasks(s_bar_a, s_bar_b, q, n_in, n_out, seed=seed)
    options = dict(t_max=t_max, a0=a0, lr=lr, seed=seed)
    alone = simulate_student(teacher[:n_out], *one_hot_examples(data[:n_out]), **options)
    joint = simulate_student(teacher, *one_hot_examples(data), **options)
    task_a = np.sum((teacher[:n_out] - joint.product[:, :n_out]) ** 2, axis=(1, 2)) / s_bar_a ** 2
    return alone.t, alone.test, task_a
