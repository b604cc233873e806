"""Fixed points of a map, their linearization, and the low-dimensional model they imply.

For a map h ↦ F(h) (a recurrent network with its input held at zero), a fixed point is
h* = F(h*). Following Sussillo & Barak (2013) and Golub & Sussillo (2018), we minimize the
speed

    q(h) = ½ ‖F(h) − h‖²                      (Sussillo & Barak 2013; Maheswaranathan et al. 2019)

from many candidate states at once (``vmap``). Near h*, F(h* + δ, x) ≈ h* + J δ + B x with
J = ∂F/∂h and B = ∂F/∂x at (h*, 0); eigenvalues |λ| ≈ 1 are slow modes that integrate their
input, with signed time constant τ = −1/ln|λ| steps (τ < 0: a mode that grows). Where a
network has no exact line of fixed points it may have one of *slow points*, states with q
below a small threshold; :func:`line_attractor_test` asks whether such points form a line
along the readout with λ₁ ≈ 1 and nothing unstable, and fails for a bistable switch.
Projecting on the line reduces the network to the scalar integrator of
:func:`line_integrator`, s_t = s_k + λ₁ (s_{t−1} − s_k) + (wᵀr₁)(ℓ₁ᵀ B x_t) linearized at the
nearest point k of the line, the mechanism Maheswaranathan et al. (2019) find in sentiment
networks.

A network's *topology* (Maheswaranathan, Williams, Golub, Ganguli & Sussillo 2019, "Universality
and individuality", Fig. 1e–f) is a graph of its fixed points and the transitions between them.
We keep its memory part, a labelled graph: its nodes are the stable fixed points at zero input
that no sequence of pulses leaves for good, and pulse p sends node i to node j when
h₁ = F(h*_i, x_p), h_{t+1} = F(h_t, 0) settles near h*_j (:func:`topology`); the paper's graph
also has the saddles and the orbits joining them.
Networks of different architectures differ in geometry but share this graph — for the 3-bit
flip-flop, the 8 corners of a cube with pulses moving along its edges — and
:func:`topology_distance` is 0 exactly when two such graphs are isomorphic.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.spatial import cKDTree

from neurotheory import checks

METHODS = ("levenberg-marquardt", "adam")


@dataclass(frozen=True)
class FixedPoints:
    """Result of :func:`find_fixed_points`: K optimized states and how fixed they are."""

    points: np.ndarray       # (K, n) optimized states
    speed: np.ndarray        # (K,) q at each, ½‖F(h) − h‖²
    converged: np.ndarray    # (K,) q < tol
    iterations: np.ndarray   # (K,) iterations used


@dataclass(frozen=True)
class Linearization:
    """Jacobians J_k = ∂F/∂h at points h_k and their eigendecompositions J R = R Λ, L J = Λ L.

    Eigenvalues are sorted by magnitude, largest first; ``right[k][:, i]`` is the right
    eigenvector of ``eigenvalues[k, i]``, ``left[k][i]`` the left one, normalized so that
    L R = I.
    """

    jacobians: np.ndarray    # (K, n, n)
    eigenvalues: np.ndarray  # (K, n) complex
    right: np.ndarray        # (K, n, n) complex, columns
    left: np.ndarray         # (K, n, n) complex, rows


@dataclass(frozen=True)
class PrincipalComponents:
    """Principal axes of a cloud of points: ``components`` (k, n) rows, variance fractions."""

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    def project(self, x) -> np.ndarray:
        """Coordinates of points (..., n) on the principal axes: (..., k)."""
        return (np.asarray(x) - self.mean) @ self.components.T


def speed(step: Callable[[jax.Array], jax.Array], h: jax.Array) -> jax.Array:
    """q(h) = ½ ‖F(h) − h‖² for one state h of shape (n,)."""
    residual = step(h) - h
    return 0.5 * residual @ residual


def _check_candidates(candidates) -> jax.Array:
    candidates = jnp.asarray(candidates)
    if candidates.ndim != 2 or candidates.shape[0] == 0 or candidates.shape[1] == 0:
        raise ValueError(f"candidates must have shape (K, n) with K, n ≥ 1, got {candidates.shape}")
    if not jnp.issubdtype(candidates.dtype, jnp.floating):
        raise TypeError(f"candidates must be floating point, got {candidates.dtype}")
    if not bool(jnp.all(jnp.isfinite(candidates))):
        raise ValueError("candidates has NaN or infinite values")
    return candidates


def _check_step(step, n: int, dtype, input_size: int | None = None, source: str = "") -> None:
    """``step`` must map a state (n,) — with ``input_size``, a state and an input (input_size,),
    whose width comes from ``source`` — to a state (n,)."""
    if not callable(step):
        raise TypeError(f"step must be callable, got {type(step).__name__}")
    shapes = [jax.ShapeDtypeStruct((n,), dtype)]
    if input_size is not None:
        shapes.append(jax.ShapeDtypeStruct((input_size,), dtype))
    try:
        out = jax.eval_shape(step, *shapes)
    except (TypeError, ValueError) as error:
        if input_size is None:
            raise
        raise ValueError(f"step must accept a state of shape ({n},) and an input of shape ({input_size},), "
                         f"{source}: {error}") from error
    if getattr(out, "shape", None) != (n,):
        raise ValueError(f"step must map a state of shape ({n},){'' if input_size is None else ' and an input'} "
                         f"to one of shape ({n},), got {getattr(out, 'shape', type(out).__name__)}")


def _levenberg_marquardt(step, tol: float, max_iters: int, damping: float):
    """Per-candidate solver: Gauss–Newton steps on r(h) = F(h) − h with adaptive damping μ.

    δ = −(JᵣᵀJᵣ + μ I)⁻¹ Jᵣᵀ r with Jᵣ = ∂F/∂h − I; a step that lowers q is taken and μ shrinks
    threefold, otherwise μ grows fourfold.
    """
    def residual(h):
        return step(h) - h

    def solve(h0):
        def body(carry):
            h, q, mu, i = carry
            r, jac = residual(h), jax.jacfwd(residual)(h)
            normal = jac.T @ jac + mu * jnp.eye(h.shape[0], dtype=h.dtype)
            trial = h - jnp.linalg.solve(normal, jac.T @ r)
            q_trial = speed(step, trial)
            better = q_trial < q
            return (jnp.where(better, trial, h), jnp.where(better, q_trial, q),
                    jnp.where(better, mu / 3.0, mu * 4.0), i + 1)

        def running(carry):
            _, q, mu, i = carry
            return (q >= tol) & (i < max_iters) & (mu < 1e12)

        init = (h0, speed(step, h0), jnp.asarray(damping, h0.dtype), jnp.asarray(0))
        return jax.lax.while_loop(running, body, init)

    return solve


def _adam(step, tol: float, max_iters: int, learning_rate: float):
    """Per-candidate solver: Adam on q(h), the optimizer of Golub & Sussillo's FixedPointFinder."""
    optimizer = optax.adam(learning_rate)
    value_and_grad = jax.value_and_grad(lambda h: speed(step, h))

    def solve(h0):
        def body(carry):
            h, q, state, i = carry
            _, grad = value_and_grad(h)
            updates, state = optimizer.update(grad, state, h)
            h = optax.apply_updates(h, updates)
            return h, speed(step, h), state, i + 1

        def running(carry):
            _, q, _, i = carry
            return (q >= tol) & (i < max_iters)

        init = (h0, speed(step, h0), optimizer.init(h0), jnp.asarray(0))
        return jax.lax.while_loop(running, body, init)

    return solve


@functools.lru_cache(maxsize=64)
def _solver(step, method: str, tol: float, max_iters: int, setting: float, batch_size: int | None):
    """The jitted all-candidates solver, cached so a repeated search does not recompile."""
    build = _levenberg_marquardt if method == "levenberg-marquardt" else _adam
    solve = build(step, tol, max_iters, setting)

    def one(h0):
        h, q, _, iterations = solve(h0)
        return h, q, iterations

    if batch_size is None:
        return jax.jit(jax.vmap(one))

    def in_slices(c):
        # Pad K up to whole slices, solve slice after slice, each slice under vmap.
        k, pad = c.shape[0], -c.shape[0] % batch_size
        slices = jnp.concatenate([c, jnp.repeat(c[-1:], pad, axis=0)]).reshape(-1, batch_size, c.shape[1])
        out = jax.lax.map(jax.vmap(one), slices)
        return jax.tree.map(lambda a: a.reshape(-1, *a.shape[2:])[:k], out)

    return jax.jit(in_slices)


def find_fixed_points(step: Callable[[jax.Array], jax.Array], candidates, *, tol: float = 1e-10,
                      max_iters: int = 200, method: str = "levenberg-marquardt",
                      damping: float = 1e-3, learning_rate: float = 1e-2,
                      batch_size: int | None = None) -> FixedPoints:
    """Minimize q(h) = ½‖F(h) − h‖² from every candidate state at once.

    ``step`` maps a state of shape (n,) to the next state (the network with its input fixed,
    usually x = 0); ``candidates`` has shape (K, n). Each candidate runs its own solver until
    q < ``tol`` or ``max_iters`` iterations; all K run together under ``vmap``, or in slices of
    ``batch_size`` (``lax.map``), which bounds memory and lets a slice stop as soon as its own
    candidates have converged. ``method`` is ``"levenberg-marquardt"``
    (damped Gauss–Newton, initial damping ``damping``) or ``"adam"`` (``learning_rate``).
    """
    candidates = _check_candidates(candidates)
    _check_step(step, candidates.shape[1], candidates.dtype)
    tol, max_iters = checks.number("tol", tol), checks.integer("max_iters", max_iters)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if batch_size is not None:
        checks.integer("batch_size", batch_size)
    setting = (checks.number("damping", damping) if method == "levenberg-marquardt"
               else checks.number("learning_rate", learning_rate))
    solver = _solver(step, method, tol, max_iters, setting,
                     None if batch_size is None else int(batch_size))
    points, q, iterations = solver(candidates)
    q = np.asarray(q)
    return FixedPoints(points=np.asarray(points), speed=q, converged=q < tol,
                       iterations=np.asarray(iterations))


def unique(points, tol: float, *, return_index: bool = False):
    """Points with near-duplicates removed: greedily keep a point unless it lies within ``tol``
    (Euclidean) of one already kept, in the order given. With ``return_index``, also the
    indices of the kept points.
    """
    points = np.asarray(points)
    if points.ndim != 2:
        raise ValueError(f"points must have shape (K, n), got {points.shape}")
    if not tol >= 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points has NaN or infinite values")
    tree = cKDTree(points)
    removed = np.zeros(len(points), bool)
    kept = []
    for i in range(len(points)):
        if removed[i]:
            continue
        kept.append(i)
        removed[tree.query_ball_point(points[i], tol)] = True
    index = np.asarray(kept, dtype=int)
    return (points[index], index) if return_index else points[index]


def slow_points(step: Callable[[jax.Array], jax.Array], visited, readout: Callable, *, count: int,
                slow: float, radius: float, key: jax.Array) -> np.ndarray:
    """Distinct slow points of ``step`` along a readout, sorted by it: shape (K, n).

    ``count`` candidates are drawn from the ``visited`` states (N, n) and each is optimized
    until q < ``slow`` (:func:`find_fixed_points`); points closer than ``radius`` are merged
    (:func:`unique`), and points whose readout (``readout`` maps states (K, n) to (K,)) lies
    outside the range of the visited states' readouts are dropped as outliers the network
    never reaches.
    """
    visited = _check_candidates(visited)
    found = find_fixed_points(step, sample_states(visited, count, key=key), tol=checks.number("slow", slow))
    points = unique(found.points[found.converged], checks.number("radius", radius))
    if len(points) == 0:
        return points
    values, seen = np.asarray(readout(points)), np.asarray(readout(visited))
    inside = (values >= seen.min()) & (values <= seen.max())
    return points[inside][np.argsort(values[inside])]


def readout_drives(linearization: Linearization, input_jacobians, inputs, readout_direction) -> np.ndarray:
    """D[k, v] = (wᵀ r₁⁽ᵏ⁾)(ℓ₁⁽ᵏ⁾ᵀ B_k x_v): how far input ``inputs[v]`` moves the readout along
    the slow mode at point k (Maheswaranathan et al. 2019: the input's projection on ℓ₁); (K, V)."""
    B, inputs = np.asarray(input_jacobians), np.asarray(inputs)
    w = np.asarray(readout_direction)
    K, n = linearization.right.shape[:2]
    if B.shape[:2] != (K, n) or inputs.ndim != 2 or inputs.shape[1] != B.shape[2] or w.shape != (n,):
        raise ValueError(f"input_jacobians (K, n, m), inputs (V, m) and readout_direction (n,) disagree with "
                         f"the linearization (K={K}, n={n}): {B.shape}, {inputs.shape}, {w.shape}")
    right, left = linearization.right[:, :, 0].real, linearization.left[:, 0, :].real
    return (right @ w)[:, None] * np.einsum("kn,knm,vm->kv", left, B, inputs)


def jacobians(step: Callable[[jax.Array], jax.Array], points) -> np.ndarray:
    """J_k = ∂F/∂h at each point, by forward-mode autodiff under ``vmap``: shape (K, n, n)."""
    points = _check_candidates(points)
    _check_step(step, points.shape[1], points.dtype)
    return np.asarray(jax.jit(jax.vmap(jax.jacfwd(step)))(points))


def linearize(step: Callable[[jax.Array], jax.Array], points) -> Linearization:
    """Jacobians at ``points`` (K, n) and their eigendecompositions, sorted by |λ| descending.

    Left eigenvectors are the rows of R⁻¹, so ``left[k] @ right[k] = I``.
    """
    jac = jacobians(step, points)
    values, right = np.linalg.eig(jac.astype(np.float64))
    order = np.argsort(-np.abs(values), axis=1, kind="stable")
    values = np.take_along_axis(values, order, axis=1)
    right = np.take_along_axis(right, order[:, None, :], axis=2)
    return Linearization(jacobians=jac, eigenvalues=values, right=right, left=np.linalg.inv(right))


def time_constants(eigenvalues, *, dt: float = 1.0) -> np.ndarray:
    """Signed time constants τ = −dt / ln|λ| of linear modes.

    τ > 0 for a decaying mode (|λ| < 1): it forgets by a factor e in τ steps. τ < 0 for a
    growing one (|λ| > 1): it grows by e in |τ| steps, so it is no memory at all. τ = +∞ at
    |λ| = 1 exactly.
    """
    magnitude = np.abs(np.asarray(eigenvalues))
    if np.any(magnitude == 0):
        raise ValueError("eigenvalues must be non-zero for a time constant")
    dt = checks.number("dt", dt)
    with np.errstate(divide="ignore"):
        return np.where(magnitude == 1, np.inf, -dt / np.log(magnitude))


STABILITY = ("stable", "marginal", "unstable")


def stability(eigenvalues, *, tol: float = 0.02) -> np.ndarray:
    """Each point's type from its eigenvalues (K, n): ``"unstable"`` if some |λ| > 1 + ``tol``
    (a saddle or a repeller), ``"marginal"`` if the largest |λ| is within ``tol`` of 1 (a slow,
    line-like direction), ``"stable"`` otherwise (every mode decays)."""
    magnitude = np.abs(np.asarray(eigenvalues))
    if magnitude.ndim != 2:
        raise ValueError(f"eigenvalues must have shape (K, n), got {magnitude.shape}")
    tol = checks.number("tol", tol)
    largest = magnitude.max(axis=1)
    return np.where(largest > 1 + tol, "unstable", np.where(largest >= 1 - tol, "marginal", "stable"))


@dataclass(frozen=True)
class LineAttractorTest:
    """Result of :func:`line_attractor_test`; ``holds`` is the verdict, ``reasons`` says why not."""

    count: int                 # distinct points with readout inside the span
    largest_gap: float         # widest gap between neighbouring readouts, as a fraction of the span
    deviation: float           # ||λ₁| − 1| over the middle of the line, at the test's quantile
    largest_eigenvalue: float  # max |λ| per point over the middle of the line, at the test's quantile
    holds: bool
    reasons: tuple[str, ...]   # each failed criterion in words; empty when the test holds


def line_attractor_test(readouts, eigenvalues, *, span, tol: float = 0.02, middle: float = 0.8,
                        min_points: int = 20, max_gap: float = 0.2,
                        quantile: float = 0.9) -> LineAttractorTest:
    """Do distinct slow points form a line attractor along the readout interval ``span`` = (lo, hi)?

    ``readouts`` (K,) is wᵀh + b at each point and ``eigenvalues`` (K, n) its linearization.
    It holds when at least ``min_points`` points have readouts in [lo, hi], no gap between
    neighbouring readouts (the interval's ends included) is wider than ``max_gap`` (hi − lo),
    and over the points in the central ``middle`` fraction of the interval the ``quantile``
    of ||λ₁| − 1| is at most ``tol`` and that of max |λ| at most 1 + ``tol``. The quantile
    (1 for the single worst point) keeps a few points where the search stopped at the edge of
    the slow region from deciding the verdict. Two stable points with a saddle between them
    (a bistable switch) fail: too few points, a wide gap, and |λ₁| far from 1 at the stable
    points or above 1 + tol at the saddle.
    """
    readouts = np.asarray(readouts, dtype=float)
    magnitude = np.abs(np.asarray(eigenvalues))
    if readouts.ndim != 1 or magnitude.shape[:1] != readouts.shape or magnitude.ndim != 2:
        raise ValueError(f"readouts (K,) and eigenvalues (K, n) disagree: {readouts.shape}, {magnitude.shape}")
    lo, hi = (float(v) for v in span)
    if not hi > lo:
        raise ValueError(f"span must be an interval (lo, hi) with hi > lo, got {span}")
    if not 0 < middle <= 1:
        raise ValueError(f"middle must be a fraction in (0, 1], got {middle}")
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile must be a fraction in (0, 1], got {quantile}")
    min_points = checks.integer("min_points", min_points)
    inside = (readouts >= lo) & (readouts <= hi)
    edges = np.concatenate([[lo], np.sort(readouts[inside]), [hi]])
    largest_gap = float(np.diff(edges).max() / (hi - lo))
    margin = (1 - middle) / 2 * (hi - lo)
    central = (readouts >= lo + margin) & (readouts <= hi - margin)
    leading = magnitude[central].max(axis=1) if central.any() else np.array([np.inf])
    deviation = float(np.quantile(np.abs(leading - 1), quantile))
    largest = float(np.quantile(leading, quantile))
    count = int(inside.sum())
    share = "" if quantile == 1 else f" at {quantile:.0%} of the middle points"
    reasons = tuple(reason for failed, reason in (
        (count < min_points, f"only {count} slow point{'' if count == 1 else 's'} in the readout range"),
        (largest_gap > max_gap, f"a gap of {largest_gap:.0%} of the readout range with no slow point"),
        (deviation > tol, f"|λ₁| off 1 by more than {tol:g}{share} ({deviation:.3f})"),
        (largest > 1 + tol, f"an eigenvalue of {largest:.3f} (unstable){share}"),
    ) if failed)
    return LineAttractorTest(count=count, largest_gap=largest_gap, deviation=deviation,
                             largest_eigenvalue=largest, holds=not reasons, reasons=reasons)


def principal_components(x, n_components: int | None = None) -> PrincipalComponents:
    """PCA of points x (N, n): principal axes and the fraction of variance each explains."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x must have shape (N, n) with N ≥ 2, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x has NaN or infinite values")
    k = min(x.shape) if n_components is None else int(n_components)
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"n_components must be between 1 and {min(x.shape)}, got {n_components}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    variance = s ** 2
    return PrincipalComponents(mean=mean, components=vt[:k], explained=variance[:k] / variance.sum())


def sample_states(trajectories, count: int, *, key: jax.Array, noise: float = 0.0) -> jax.Array:
    """``count`` states drawn at random from trajectories (..., n), plus N(0, noise²) jitter:
    the candidates from which fixed points are sought."""
    states = jnp.asarray(trajectories)
    if states.ndim < 2:
        raise ValueError(f"trajectories must have shape (..., n), got {states.shape}")
    count = checks.integer("count", count)
    noise = checks.number("noise", noise, allow_zero=True)
    states = states.reshape(-1, states.shape[-1])
    k_pick, k_noise = jax.random.split(key)
    picked = states[jax.random.randint(k_pick, (count,), 0, states.shape[0])]
    return picked + noise * jax.random.normal(k_noise, picked.shape, picked.dtype)


def input_jacobians(step: Callable[[jax.Array, jax.Array], jax.Array], points, input_size: int) -> np.ndarray:
    """B_k = ∂F/∂x at (h_k, x = 0) for each point, the input's linear effect: shape (K, n, m)."""
    points = _check_candidates(points)
    m = checks.integer("input_size", input_size)
    _check_step(step, points.shape[1], points.dtype, m, "input_size")
    zero = jnp.zeros(m, points.dtype)
    return np.asarray(jax.jit(jax.vmap(lambda h: jax.jacfwd(lambda x: step(h, x))(zero)))(points))


def line_integrator(positions, decays, drives, tokens, *, initial: float, pad: int = 0) -> np.ndarray:
    """The one-dimensional reduced model along a line of slow points, every step of every sequence.

    The state is one number y, in the units of ``positions`` (K,), the points' coordinates
    along the line (the readout wᵀh* + b, say). Each step is linearized at the nearest
    point k (Maheswaranathan et al. 2019, section 5: the linearization about the closest
    fixed point):

        y_t = y_k + λ_k (y_{t−1} − y_k) + D[k, x_t],

    with ``decays`` λ_k (K,) the leading eigenvalue at each point and ``drives`` D (K, V) the
    move a token causes there, (wᵀr₁)(ℓ₁ᵀ B x) in readout units. ``tokens`` (N, T) are ids
    into D's columns; at ``pad`` tokens y is held. With one point it is the leaky integrator
    y_t = y* + λ (y_{t−1} − y*) + d(x_t). Returns y_t of shape (N, T); y_T is ``[:, -1]``.
    """
    positions = jnp.asarray(positions, jnp.float32)
    decays = jnp.asarray(decays, jnp.float32)
    drives = jnp.asarray(drives, jnp.float32)
    tokens = jnp.asarray(tokens)
    if positions.ndim != 1 or decays.shape != positions.shape:
        raise ValueError(f"positions and decays must be vectors of one length, got {positions.shape}, {decays.shape}")
    if drives.ndim != 2 or drives.shape[0] != positions.shape[0]:
        raise ValueError(f"drives must have shape ({positions.shape[0]}, vocabulary), got {drives.shape}")
    if tokens.ndim != 2 or not jnp.issubdtype(tokens.dtype, jnp.integer):
        raise ValueError(f"tokens must be integer ids of shape (N, T), got {tokens.dtype} {tokens.shape}")
    if not bool(jnp.all(jnp.isfinite(drives))) or not bool(jnp.all(jnp.isfinite(decays))):
        raise ValueError("drives and decays must be finite")
    if not np.isfinite(initial):
        raise ValueError(f"initial must be a finite number, got {initial}")
    return np.asarray(_line_integrator(positions, decays, drives, tokens, jnp.float32(initial), pad))


@functools.partial(jax.jit, static_argnames="pad")
def _line_integrator(positions, decays, drives, tokens, initial, pad):
    def advance(y, token):
        k = jnp.argmin(jnp.abs(positions - y))
        moved = positions[k] + decays[k] * (y - positions[k]) + drives[k, token]
        y = jnp.where(token != pad, moved, y)
        return y, y

    return jax.vmap(lambda row: jax.lax.scan(advance, initial, row)[1])(tokens)


@dataclass(frozen=True)
class Topology:
    """The graph of a network's memories (Maheswaranathan et al. 2019, Fig. 1e): nodes are the
    stable fixed points found at zero input (by default those in closed classes, see
    :func:`topology`), edges say where each input pulse sends each one.

    ``stable`` (k, n) holds the points, in the order found; ``edges`` holds one triple
    (from_index, pulse_index, to_index) for every stable point and every pulse, self-loops
    included, with to_index = −1 where the state the pulse leads to is near no stable point.
    """

    stable: np.ndarray   # (k, n) stable fixed points at x = 0
    edges: frozenset     # {(i, p, j)}: pulse p sends point i to point j (−1: to none of them)


def _check_pulses(pulses, dtype) -> jax.Array:
    pulses = np.asarray(pulses)
    if not (np.issubdtype(pulses.dtype, np.integer) or np.issubdtype(pulses.dtype, np.floating)):
        raise TypeError(f"pulses must be real numbers, got {pulses.dtype}")
    if pulses.ndim != 2 or pulses.shape[0] == 0 or pulses.shape[1] == 0:
        raise ValueError(f"pulses must have shape (P, m) with P, m ≥ 1, got {pulses.shape}")
    if not np.all(np.isfinite(pulses)):
        raise ValueError("pulses has NaN or infinite values")
    return jnp.asarray(pulses, dtype)


def topology(step: Callable[[jax.Array, jax.Array], jax.Array], candidates, *, pulses,
             settle_steps: int = 500, tol: float = 1e-10, radius: float = 0.1, merge: float = 1e-3,
             stability_tol: float = 1e-3, max_iters: int = 200, closed: bool = True) -> Topology:
    """The fixed-point topology of ``step(h, x)`` under input ``pulses`` (Maheswaranathan et al.
    2019, Fig. 1e–f: different architectures, one topology; saddles are left out of the graph).

    1. Fixed points of F(h) = step(h, 0) are sought from ``candidates`` (K, n) by
       :func:`find_fixed_points` (q < ``tol``, at most ``max_iters`` iterations); converged
       points closer than ``merge`` are one (:func:`unique`), and those with every |λ| below
       1 − ``stability_tol`` (:func:`linearize`, :func:`stability`) are the nodes h*_i.
    2. Each pulse x_p, a row of ``pulses`` (P, m), is applied for one step from each node and
       the input is then held at zero for ``settle_steps`` steps,

           h₁ = step(h*_i, x_p),    h_{t+1} = step(h_t, 0),

       for all k·P pairs at once (``vmap`` over nodes and pulses, ``lax.fori_loop`` over time).
    3. The end state is assigned to its nearest node j, the edge (i, p, j); if no node lies
       within ``radius`` (Euclidean, state units) — the state escaped, kept moving, or is not
       finite — the edge is (i, p, −1).
    4. With ``closed`` (the default), only the nodes of closed classes are kept: i stays if
       every node some sequence of pulses leads to from i leads back to i. These are the
       memories a network keeps for good; a point that only the initial state visits (the
       flip-flop's "nothing stored yet", which no pulse returns to) is dropped with its edges.

    ``step`` is a two-argument map like ``rnn.Classifier.transition()``; m is the width of
    ``pulses``. With no stable point found the graph is empty: ``stable`` of shape (0, n).
    """
    candidates = _check_candidates(candidates)
    n, dtype = candidates.shape[1], candidates.dtype
    pulses = _check_pulses(pulses, dtype)
    _check_step(step, n, dtype, pulses.shape[1], "the width of pulses")
    settle_steps = checks.integer("settle_steps", settle_steps)
    radius, merge = checks.number("radius", radius), checks.number("merge", merge)
    stability_tol = checks.number("stability_tol", stability_tol)
    zero = jnp.zeros(pulses.shape[1], dtype)

    def autonomous(h):
        return step(h, zero)

    found = find_fixed_points(autonomous, candidates, tol=tol, max_iters=max_iters)
    points = unique(found.points[found.converged], merge)
    if len(points):
        points = points[stability(linearize(autonomous, points).eigenvalues, tol=stability_tol) == "stable"]
    if len(points) == 0:
        return Topology(stable=np.zeros((0, n), dtype), edges=frozenset())

    def settle(h, pulse):
        return jax.lax.fori_loop(0, settle_steps, lambda _, state: autonomous(state), step(h, pulse))

    ends = np.asarray(jax.jit(jax.vmap(jax.vmap(settle, (None, 0)), (0, None)))(jnp.asarray(points), pulses))
    distance = np.linalg.norm(ends[:, :, None, :] - points[None, None], axis=-1)     # (k, P, k)
    nearest = distance.argmin(axis=-1)
    within = np.take_along_axis(distance, nearest[..., None], axis=-1)[..., 0] <= radius
    targets = np.where(within, nearest, -1)
    if closed:
        keep = np.flatnonzero(_closed_classes(targets))
        renumber = np.full(len(points) + 1, -1)           # renumber[-1] = −1: "no stable point"
        renumber[keep] = np.arange(len(keep))
        points, targets = points[keep], renumber[targets[keep]]
    edges = frozenset((i, p, int(targets[i, p])) for i in range(len(points)) for p in range(len(pulses)))
    return Topology(stable=points, edges=edges)


def _closed_classes(targets: np.ndarray) -> np.ndarray:
    """Which nodes lie in a closed class of the pulse graph ``targets`` (k, P) (−1: no node):
    i is kept when every node reachable from i reaches i back (transitive closure by squaring)."""
    k = len(targets)
    reach = np.eye(k, dtype=bool)
    rows, cols = np.nonzero(targets >= 0)
    reach[rows, targets[rows, cols]] = True
    for _ in range(max(1, int(np.ceil(np.log2(max(k, 2)))))):
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    return np.all(~reach | reach.T, axis=1)


def _edge_array(name: str, graph) -> np.ndarray:
    """The edges of Topology ``graph`` as an (E, 3) integer array, each triple checked."""
    if not isinstance(graph, Topology):
        raise TypeError(f"{name} must be a Topology, got {type(graph).__name__}")
    if np.ndim(graph.stable) != 2:
        raise ValueError(f"{name}.stable must have shape (k, n), got {np.shape(graph.stable)}")
    k = np.shape(graph.stable)[0]
    edges = []
    for edge in graph.edges:
        integers = isinstance(edge, tuple) and len(edge) == 3 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in edge)
        if not (integers and 0 <= edge[0] < k and edge[1] >= 0 and -1 <= edge[2] < k):
            raise ValueError(f"{name}.edges must hold integer triples (i, p, j) with 0 ≤ i < {k}, "
                             f"p ≥ 0 and −1 ≤ j < {k}, got {edge!r}")
        edges.append(edge)
    return np.asarray(sorted(edges), dtype=int).reshape(-1, 3)


def topology_distance(a: Topology, b: Topology, *, max_nodes: int = 8) -> float:
    """Distance between two topologies, 0 exactly when they are the same labelled graph.

    Nodes are stable points; edges (i, p, j) are labelled by the pulse p, which means the same
    input in both graphs and is never relabelled; the target j = −1 ("no stable point") is a
    node of its own that every bijection fixes. With k = max(k_a, k_b), the graph with fewer
    nodes is padded with |k_a − k_b| isolated nodes, and

        d(a, b) = |k_a − k_b| + min_σ |E_a △ σ(E_b)| / (|E_a| + |E_b|),

    σ running over the k! bijections of nodes, σ(E_b) = {(σ(i), p, σ(j))}, and the fraction
    taken as 0 when both graphs have no edges. The fraction lies in [0, 1], so d = 0 exactly
    when a and b are isomorphic (same node count, a bijection preserving every labelled edge),
    0 < d ≤ 1 for non-isomorphic graphs with one node count, and d ≥ 1 when the counts differ.
    For graphs from :func:`topology` (one edge per node and pulse) the fraction is the share
    of (node, pulse) pairs whose pulse goes somewhere else under the best bijection.

    The minimum is exact, by brute force over all k! bijections (vectorized, in chunks), so
    k > ``max_nodes`` (default 8: 8! = 40,320 bijections) raises a ``ValueError``; raise
    ``max_nodes`` to pay for more (10! ≈ 3.6 million).
    """
    edges_a, edges_b = _edge_array("a", a), _edge_array("b", b)
    k_a, k_b = len(a.stable), len(b.stable)
    k = max(k_a, k_b)
    if k > checks.integer("max_nodes", max_nodes):
        raise ValueError(f"topology_distance compares graphs of at most max_nodes = {max_nodes} nodes "
                         f"by brute force, got {k}; pass a larger max_nodes to allow it")
    total = len(edges_a) + len(edges_b)
    if total == 0:
        return float(abs(k_a - k_b))
    labels = 1 + max(edges_a[:, 1].max(initial=0), edges_b[:, 1].max(initial=0))
    nowhere = k                                             # the node j = −1, fixed by every σ
    adjacency = np.zeros((labels, k + 1, k + 1), bool)      # adjacency[p, i, j]: (i, p, j) ∈ E_a
    adjacency[edges_a[:, 1], edges_a[:, 0], np.where(edges_a[:, 2] < 0, nowhere, edges_a[:, 2])] = True
    source, label = edges_b[:, 0], edges_b[:, 1]
    target = np.where(edges_b[:, 2] < 0, nowhere, edges_b[:, 2])
    best, bijections = 0, itertools.permutations(range(k))
    for chunk in iter(lambda: list(itertools.islice(bijections, 40_320)), []):
        sigma = np.concatenate([np.asarray(chunk), np.full((len(chunk), 1), nowhere)], axis=1)   # σ(−1) = −1
        shared = adjacency[label[None], sigma[:, source], sigma[:, target]].sum(axis=1)  # |E_a ∩ σ(E_b)|
        best = max(best, int(shared.max()))
        if best == min(len(edges_a), len(edges_b)):
            break
    return abs(k_a - k_b) + (total - 2 * best) / total
