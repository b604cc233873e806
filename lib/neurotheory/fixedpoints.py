"""Fixed points of a map, their linearization, and the low-dimensional model they imply.

For a map h ↦ F(h) (a recurrent network with its input held at zero), a fixed point is
h* = F(h*). Following Sussillo & Barak (2013) and Golub & Sussillo (2018), we minimize the
speed

    q(h) = ½ ‖F(h) − h‖²                      (Sussillo & Barak 2013; Maheswaranathan et al. 2019)

from many candidate states at once (``vmap``). Near h*, F(h* + δ) ≈ h* + J δ with
J = ∂F/∂h (h*); eigenvalues |λ| ≈ 1 are slow modes that integrate their input, with time
constant τ = 1/|ln|λ|| steps. A line attractor is a curve of fixed points each with one
eigenvalue λ₁ ≈ 1 along the line; projecting on it reduces the network to the scalar
integrator s_t = λ₁ s_{t−1} + l₁ᵀ (F(h*, x_t) − h*), the mechanism Maheswaranathan et al.
(2019) find in sentiment networks.
"""

from __future__ import annotations

import functools
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


def _check_step(step, n: int, dtype) -> None:
    if not callable(step):
        raise TypeError(f"step must be callable, got {type(step).__name__}")
    out = jax.eval_shape(step, jax.ShapeDtypeStruct((n,), dtype))
    if getattr(out, "shape", None) != (n,):
        raise ValueError(f"step must map a state of shape ({n},) to one of shape ({n},), "
                         f"got {getattr(out, 'shape', type(out).__name__)}")


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
    """τ = dt / |ln|λ||: how many steps a mode takes to decay by e (∞ for |λ| = 1)."""
    magnitude = np.abs(np.asarray(eigenvalues))
    if np.any(magnitude == 0):
        raise ValueError("eigenvalues must be non-zero for a time constant")
    with np.errstate(divide="ignore"):
        return dt / np.abs(np.log(magnitude))


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


def input_drive(step: Callable[[jax.Array, jax.Array], jax.Array], point, inputs, direction) -> np.ndarray:
    """How far each input moves the state from a fixed point along a direction:
    d(x) = l · (F(h*, x) − h*) for every row x of ``inputs`` (V, m); shape (V,)."""
    point, inputs, direction = jnp.asarray(point), jnp.asarray(inputs), jnp.asarray(direction)
    if point.ndim != 1 or direction.shape != point.shape:
        raise ValueError(f"point and direction must be vectors of one shape, got {point.shape} and {direction.shape}")
    if inputs.ndim != 2:
        raise ValueError(f"inputs must have shape (V, m), got {inputs.shape}")
    return np.asarray(jax.vmap(lambda x: direction @ (step(point, x) - point))(inputs))


def integrate(drive, decay: float, *, mask=None, initial=0.0) -> np.ndarray:
    """The one-dimensional integrator s_t = λ s_{t−1} + d_t, held where ``mask`` is False.

    ``drive`` has shape (..., T); returns s_T for each sequence, shape (...).
    """
    drive = jnp.asarray(drive, jnp.float32)
    if drive.ndim < 1:
        raise ValueError(f"drive must have shape (..., T), got {drive.shape}")
    mask = jnp.ones(drive.shape, bool) if mask is None else jnp.asarray(mask, bool)
    if mask.shape != drive.shape:
        raise ValueError(f"mask must have the shape of drive {drive.shape}, got {mask.shape}")

    def advance(s, dm):
        d, m = dm
        return jnp.where(m, decay * s + d, s), None

    initial = jnp.broadcast_to(jnp.asarray(initial, jnp.float32), drive.shape[:-1])
    final, _ = jax.lax.scan(advance, initial, (jnp.moveaxis(drive, -1, 0), jnp.moveaxis(mask, -1, 0)))
    return np.asarray(final)
