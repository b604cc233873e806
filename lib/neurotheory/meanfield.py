"""Mean-field signal propagation through wide random networks (Poole et al. 2016; Schoenholz et al. 2017).

A fully connected network with weights W_ij ~ N(0, σ_w²/N) (or σ_w times a Haar orthogonal
matrix) and biases b_i ~ N(0, σ_b²) sends an input through

    h^l = W^l φ(h^{l-1}) + b^l.

At large width each pre-activation h^l_i is Gaussian with variance q^l, and two inputs have
pre-activation correlation c^l. Pennington, Schoenholz & Ganguli (2017) build on the maps of
Poole et al. (2016):

    length map        q^l = σ_w² E_z[φ(√q^{l-1} z)²] + σ_b²,                          z ~ N(0, 1)
    correlation map   c^l = (σ_w² E[φ(u₁) φ(u₂)] + σ_b²) / q*,   u₁ = √q* z₁,  u₂ = √q* (c z₁ + √(1−c²) z₂)
    slope at c = 1    χ = σ_w² E_z[φ′(√q* z)²]

χ < 1 is the ordered phase (inputs collapse together), χ > 1 the chaotic phase (they fly
apart), χ = 1 the critical line on which gradients neither vanish nor explode on average.

``phi`` is a name from :mod:`neurotheory.nonlinearities` (``"linear"``, ``"tanh"``,
``"hard_tanh"``, ``"erf"``, ``"relu"``, ``"sigmoid"``, ``"selu"``, ``"swish"``, ``"sin"``)
or a callable. Gaussian averages are exact closed forms for ``linear``, ``relu``,
``hard_tanh`` and ``erf``, composite Gauss–Legendre quadrature split at φ′'s kinks
otherwise (:func:`neurotheory.nonlinearities.gaussian_rule`).
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.scipy.special import erf, erfc

from neurotheory import checks, nonlinearities, runtime

Phi = str | Callable[[jax.Array], jax.Array]

QUADRATURE_NODES = 384  # composite Gauss–Legendre nodes (nonlinearities.gaussian_rule)
BISECTION_STEPS = 200
Q_MAX = 1e12



def in_float64(fn: Callable) -> Callable:
    """Run ``fn`` with JAX in float64 (theory needs it at depth 1000) and return NumPy arrays."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with runtime.float64():
            out = fn(*args, **kwargs)
            return jax.tree.map(lambda a: np.asarray(a) if isinstance(a, jax.Array) else a, out)

    return wrapped


def _check_phi(phi: Phi) -> Phi:
    if not callable(phi) and not isinstance(phi, str):
        raise TypeError(f"phi must be a nonlinearity name or a callable, got {type(phi).__name__}")
    nonlinearities.get(phi)
    return phi


def _check_positive(name: str, value, *, allow_zero: bool) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if np.any(array < 0) or (not allow_zero and np.any(array == 0)):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return array


def _bernoulli_p(phi: Phi, q: jax.Array) -> jax.Array | None:
    """P(φ′(h) ≠ 0) for h ~ N(0, q) when φ′ takes only the values 0 and 1, else None."""
    if phi == "linear":
        return jnp.ones_like(q)
    if phi == "relu":
        return jnp.full_like(q, 0.5)
    if phi == "hard_tanh":
        return erf(1.0 / jnp.sqrt(2.0 * jnp.maximum(q, 1e-300)))
    return None


def _rule(phi: Phi, q: jax.Array, n: int = QUADRATURE_NODES) -> tuple[jax.Array, jax.Array]:
    """About ``n`` quadrature nodes for h ~ N(0, q), split at φ′'s kinks."""
    panels = max(1, -(-n // nonlinearities.ORDER))
    return nonlinearities.gaussian_rule(q, nonlinearities.kinks(phi), panels)


def _derivative_law(phi: Phi, q: jax.Array, n: int = QUADRATURE_NODES) -> tuple[jax.Array, jax.Array]:
    p = _bernoulli_p(phi, q)
    if p is not None:
        return (jnp.broadcast_to(jnp.array([0.0, 1.0]), q.shape + (2,)),
                jnp.stack([1.0 - p, p], axis=-1))
    h, w = _rule(phi, q, n)
    return nonlinearities.derivative(phi)(h) ** 2, w


def _mean_square(phi: Phi, q: jax.Array) -> jax.Array:
    if phi == "linear":
        return q
    if phi == "relu":
        return q / 2.0
    if phi == "hard_tanh":
        a = 1.0 / jnp.sqrt(jnp.maximum(q, 1e-300))
        inside = erf(a / jnp.sqrt(2.0)) - 2.0 * a * jnp.exp(-a ** 2 / 2.0) / jnp.sqrt(2.0 * jnp.pi)
        return q * inside + erfc(a / jnp.sqrt(2.0))
    if phi == "erf":
        return 2.0 / jnp.pi * jnp.arcsin(2.0 * q / (1.0 + 2.0 * q))
    h, w = _rule(phi, q)
    return jnp.sum(w * nonlinearities.get(phi)(h) ** 2, axis=-1)


def _length_map(phi: Phi, q: jax.Array, sigma_w: jax.Array, sigma_b: jax.Array) -> jax.Array:
    return sigma_w ** 2 * _mean_square(phi, q) + sigma_b ** 2


@in_float64
def derivative_law(phi: Phi, q, n: int = QUADRATURE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """The law of φ′(h)² for h ~ N(0, q), as values y_i with probabilities π_i.

    ``linear``, ``relu`` and ``hard_tanh`` have φ′ ∈ {0, 1}, so φ′² is Bernoulli:
    y = (0, 1) with π = (1 − p, p), p = P(φ′ ≠ 0) (p = 1/2 for ReLU, erf(1/√(2q)) for
    hard-tanh). Other nonlinearities use about ``n`` nodes h_i of a composite Gauss–Legendre
    rule split at φ′'s kinks (:func:`neurotheory.nonlinearities.gaussian_rule`). This law
    is the spectrum of D² = diag(φ′(h)²), the nonlinearity's part of the Jacobian.
    Broadcasts over ``q``; the law lives on the last axis.
    """
    _check_phi(phi)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer of at least 2, got {n!r}")
    return _derivative_law(phi, jnp.asarray(_check_positive("q", q, allow_zero=True)), n)


@in_float64
def derivative_moment(phi: Phi, q, k: int = 1) -> np.ndarray:
    """μ_k = E[φ′(h)^{2k}], h ~ N(0, q): the k-th moment of the spectrum of D²."""
    _check_phi(phi)
    k = checks.integer("k", k)
    values, probs = _derivative_law(phi, jnp.asarray(_check_positive("q", q, allow_zero=True)))
    return jnp.sum(probs * values ** k, axis=-1)


@in_float64
def mean_square(phi: Phi, q) -> np.ndarray:
    """E[φ(h)²] for h ~ N(0, q), the integral in the length map."""
    _check_phi(phi)
    return _mean_square(phi, jnp.asarray(_check_positive("q", q, allow_zero=True)))


@in_float64
def length_map(phi: Phi, q, sigma_w, sigma_b) -> np.ndarray:
    """q^l = σ_w² E[φ(√q^{l−1} z)²] + σ_b², the length map."""
    _check_phi(phi)
    q = jnp.asarray(_check_positive("q", q, allow_zero=True))
    sigma_w = jnp.asarray(_check_positive("sigma_w", sigma_w, allow_zero=True))
    sigma_b = jnp.asarray(_check_positive("sigma_b", sigma_b, allow_zero=True))
    return _length_map(phi, q, sigma_w, sigma_b)


@in_float64
def q_star(phi: Phi, sigma_w, sigma_b, q0: float = 1.0) -> np.ndarray:
    """The fixed point q* = σ_w² E[φ(√q* z)²] + σ_b² of the length map.

    Solved by bisection on g(q) = length_map(q) − q, vectorised over ``sigma_w`` and
    ``sigma_b``: the bracket is [0, the first power of two where g < 0], so the root is the
    fixed point that iterating the map reaches from any q⁰ > 0. Linear and ReLU networks
    have the closed form q* = σ_b² / (1 − σ_w² a) with a = 1 or 1/2; at their critical point
    (σ_w² a = 1, σ_b = 0) every q is fixed and ``q0`` (the input's length) is returned.
    Raises ValueError where no finite fixed point exists (q grows without bound).
    """
    return _q_star(phi, sigma_w, sigma_b, q0)


def _q_star(phi: Phi, sigma_w, sigma_b, q0: float = 1.0) -> np.ndarray:
    _check_phi(phi)
    sw = _check_positive("sigma_w", sigma_w, allow_zero=False)
    sb = _check_positive("sigma_b", sigma_b, allow_zero=True)
    _check_positive("q0", q0, allow_zero=False)
    sw, sb = np.broadcast_arrays(sw, sb)
    if phi in ("linear", "relu"):
        slope = sw ** 2 * (1.0 if phi == "linear" else 0.5)
        critical = np.isclose(slope, 1.0, rtol=1e-12, atol=0) & (sb == 0)
        if np.any((slope >= 1.0) & ~critical):
            raise ValueError(f"q* does not exist for {phi} with sigma_w²·E[φ′²] ≥ 1 and sigma_b > 0 "
                             "(the length grows without bound); lower sigma_w")
        return np.where(critical, float(q0), sb ** 2 / np.where(critical, 1.0, 1.0 - slope))
    roots = np.asarray(_bisect_fixed_point(phi, jnp.asarray(sw), jnp.asarray(sb)))
    if np.any(~np.isfinite(roots)):
        raise ValueError(f"q* does not exist for {phi} at some (sigma_w, sigma_b): the length map has no "
                         "fixed point below 2**40")
    return roots


@functools.partial(jax.jit, static_argnames="phi")
def _bisect_fixed_point(phi: Phi, sigma_w: jax.Array, sigma_b: jax.Array) -> jax.Array:
    def g(q):
        return _length_map(phi, q, sigma_w, sigma_b) - q

    ladder = 2.0 ** jnp.arange(-40.0, 41.0)
    negative = jax.vmap(g)(ladder) < 0
    found = jnp.any(negative, axis=0)
    hi = jnp.where(found, ladder[jnp.argmax(negative, axis=0)], 1.0)

    def step(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        up = g(mid) >= 0
        return jnp.where(up, mid, lo), jnp.where(up, hi, mid)

    lo, hi = jax.lax.fori_loop(0, BISECTION_STEPS, step, (jnp.zeros_like(hi), hi))
    return jnp.where(found, 0.5 * (lo + hi), jnp.nan)


@in_float64
def chi(phi: Phi, sigma_w, sigma_b, q0: float = 1.0) -> np.ndarray:
    """χ = σ_w² E[φ′(√q* z)²], the slope of the correlation map at c = 1.

    Also the mean squared singular value of one layer's Jacobian D W, so the mean eigenvalue
    of J Jᵀ over L layers is χ^L.
    """
    q = jnp.asarray(_q_star(phi, sigma_w, sigma_b, q0))
    values, probs = _derivative_law(phi, q)
    return jnp.asarray(sigma_w, dtype=float) ** 2 * jnp.sum(probs * values, axis=-1)


@in_float64
def critical_line(phi: Phi, q_stars) -> tuple[np.ndarray, np.ndarray]:
    """(σ_w, σ_b) with χ = 1 and fixed point q*, for each q* in ``q_stars``.

    χ = 1 gives σ_w² = 1 / E[φ′(√q* z)²]; the fixed point then needs
    σ_b² = q* − σ_w² E[φ(√q* z)²]. Raises ValueError for a q* where σ_b² would be negative
    (no critical point has that fixed point). For ReLU every q* gives (√2, 0).
    """
    _check_phi(phi)
    q = _check_positive("q_stars", q_stars, allow_zero=False)
    values, probs = _derivative_law(phi, jnp.asarray(q))
    sigma_w2 = 1.0 / np.asarray(jnp.sum(probs * values, axis=-1))
    sigma_b2 = q - sigma_w2 * np.asarray(_mean_square(phi, jnp.asarray(q)))
    sigma_b2 = np.where(np.abs(sigma_b2) <= 1e-10 * q, 0.0, sigma_b2)
    if np.any(sigma_b2 < 0):
        bad = np.atleast_1d(q)[np.atleast_1d(sigma_b2) < 0]
        raise ValueError(f"q_stars {bad.tolist()} have no critical point for {phi} (σ_b² would be negative)")
    return np.sqrt(sigma_w2), np.sqrt(sigma_b2)


def _pair_mean(f, g, q: float, c: jax.Array, n: int) -> jax.Array:
    """E[f(u₁) g(u₂)] for (u₁, u₂) Gaussian with variance q and correlation c; broadcasts over c."""
    z, w = nonlinearities.gauss_hermite(n)
    weights = w[:, None] * w[None, :]
    c = c[..., None, None]
    u1 = jnp.sqrt(q) * z[:, None]
    u2 = jnp.sqrt(q) * (c * z[:, None] + jnp.sqrt(1.0 - c ** 2) * z[None, :])
    return jnp.sum(weights * f(u1) * g(u2), axis=(-2, -1))


@in_float64
def correlation_map(phi: Phi, c, sigma_w, sigma_b, n: int = 64) -> np.ndarray:
    """c^l = (σ_w² E[φ(u₁) φ(u₂)] + σ_b²) / q* with (u₁, u₂) correlated c^{l−1}: the correlation map.

    Two-dimensional Gauss–Hermite quadrature with ``n`` × ``n`` nodes; broadcasts over ``c``.
    """
    c = np.asarray(c, dtype=float)
    if not np.all(np.abs(c) <= 1):
        raise ValueError(f"c must lie in [-1, 1], got {c!r}")
    q = float(_q_star(phi, sigma_w, sigma_b))
    f = nonlinearities.get(phi)
    return (sigma_w ** 2 * _pair_mean(f, f, q, jnp.asarray(c), n) + sigma_b ** 2) / q


@functools.partial(jax.jit, static_argnames=("phi", "n"))
def _chi_c(phi: Phi, q: jax.Array, sigma_w: jax.Array, sigma_b: jax.Array, n: int) -> jax.Array:
    """σ_w² E[φ′(u₁) φ′(u₂)] at the fixed point c* of the correlation map, iterated from c = 0."""
    f, dphi = nonlinearities.get(phi), nonlinearities.derivative(phi)

    def c_map(_, c):
        return jnp.clip((sigma_w ** 2 * _pair_mean(f, f, q, c, n) + sigma_b ** 2) / q, -1.0, 1.0)

    c_star = jax.lax.fori_loop(0, 2000, c_map, jnp.zeros_like(q))
    return sigma_w ** 2 * _pair_mean(dphi, dphi, q, c_star, n)


@in_float64
def depth_scales(phi: Phi, sigma_w, sigma_b, n: int = 64) -> tuple[float, float]:
    """Depth scales ξ_q and ξ_c over which lengths and correlations approach their fixed points.

    Schoenholz et al. (2017): ξ_q⁻¹ = −log ∂q^l/∂q^{l−1} at q*, and
    ξ_c⁻¹ = −log χ_c with χ_c = σ_w² E[φ′(u₁) φ′(u₂)] at the correlation fixed point c*
    (c* = 1 and χ_c = χ in the ordered phase, c* < 1 in the chaotic phase). ξ_c diverges
    on the critical line χ = 1; infinite scales come back as ``inf``.
    """
    q = float(_q_star(phi, sigma_w, sigma_b))
    sw, sb = jnp.asarray(float(sigma_w)), jnp.asarray(float(sigma_b))
    slope_q = float(jax.grad(lambda s: _length_map(phi, s, sw, sb))(jnp.asarray(q)))
    values, probs = _derivative_law(phi, jnp.asarray(q))
    chi_1 = float(sw ** 2 * jnp.sum(probs * values))
    chi_c = float(_chi_c(phi, jnp.asarray(q), sw, sb, n)) if chi_1 > 1.0 else chi_1
    xi_q = -1.0 / np.log(slope_q) if 0 < slope_q < 1 else np.inf
    xi_c = -1.0 / np.log(chi_c) if 0 < chi_c < 1 - 1e-9 else np.inf
    return float(xi_q), float(xi_c)


class DeepNetwork(nnx.Module):
    """A deep fully connected classifier initialised at a point (σ_w, σ_b) of the phase diagram.

    ``depth`` layers h^l = W^l x^{l−1} + b^l, x^l = φ(h^l), all of ``width`` units (the first
    takes ``in_features``), then a linear read-out to ``out_features`` logits. Weights are
    W_ij ~ N(0, σ_w²/fan_in) (``"gaussian"``) or σ_w times a matrix with orthonormal rows or
    columns (``"orthogonal"``); biases b_i ~ N(0, σ_b²). The hidden layers are stacked in one
    (depth − 1, width, width) parameter and applied with ``lax.scan``, so depth 200 compiles
    as fast as depth 2. The paper's learning-speed experiments train such networks (depth 200, width 400).
    """

    def __init__(self, phi: Phi, depth: int, width: int, in_features: int, out_features: int,
                 sigma_w: float, sigma_b: float, weights: str, *, rngs: nnx.Rngs):
        _check_phi(phi)
        for name, value in (("depth", depth), ("width", width), ("in_features", in_features),
                            ("out_features", out_features)):
            checks.integer(name, value)
        _check_positive("sigma_w", sigma_w, allow_zero=False)
        _check_positive("sigma_b", sigma_b, allow_zero=True)
        if weights not in ("gaussian", "orthogonal"):
            raise ValueError(f"weights={weights!r} is not one of ('gaussian', 'orthogonal')")
        if weights == "orthogonal":
            kernel = jax.nn.initializers.orthogonal(scale=sigma_w)
        else:
            def kernel(key, shape):
                return sigma_w / np.sqrt(shape[0]) * jax.random.normal(key, shape)

        def stacked(key, shape):
            return jax.vmap(lambda k: kernel(k, shape[1:]))(jax.random.split(key, shape[0]))

        bias = jax.nn.initializers.normal(stddev=sigma_b)
        self.phi = phi
        self.w_in = nnx.Param(kernel(rngs.params(), (in_features, width)))
        self.b_in = nnx.Param(bias(rngs.params(), (width,)))
        self.w_hidden = nnx.Param(stacked(rngs.params(), (depth - 1, width, width)))
        self.b_hidden = nnx.Param(bias(rngs.params(), (depth - 1, width)))
        self.w_out = nnx.Param(jax.nn.initializers.lecun_normal()(rngs.params(), (width, out_features)))
        self.b_out = nnx.Param(jnp.zeros((out_features,)))

    def __call__(self, x: jax.Array) -> jax.Array:
        f = nonlinearities.get(self.phi)
        x = f(x @ self.w_in[...] + self.b_in[...])

        def layer(x, wb):
            w, b = wb
            return f(x @ w + b), None

        x, _ = jax.lax.scan(layer, x, (self.w_hidden[...], self.b_hidden[...]))
        return x @ self.w_out[...] + self.b_out[...]


def fixed_point_inputs(images, phi: Phi, sigma_w: float, sigma_b: float, q0: float = 1.0) -> np.ndarray:
    """Flatten and scale inputs so the first layer's pre-activations sit at q*.

    Each row is centred and scaled to mean square E[φ(h)²] at h ~ N(0, q*) (= (q* − σ_b²)/σ_w²),
    so σ_w² mean(x²) + σ_b² = q* from the first layer on, as in the paper's experiments.
    """
    x = np.asarray(images, dtype=float).reshape(len(images), -1)
    x = x - x.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.mean(x ** 2, axis=1, keepdims=True))
    if np.any(norms == 0):
        raise ValueError("images has a constant image, which cannot be scaled to the fixed point")
    q = float(q_star(phi, sigma_w, sigma_b, q0))
    target = (q - sigma_b ** 2) / sigma_w ** 2
    return (x / norms * np.sqrt(target)).astype(np.float32)


def training_curve(model: DeepNetwork, inputs, labels, *, steps: int, batch_size: int,
                   learning_rate: float, momentum: float = 0.9, seed: int = 0) -> np.ndarray:
    """Training loss (softmax cross-entropy) at every step of SGD with momentum on random minibatches.

    The whole run is one ``lax.scan`` over steps on the pure (graphdef, state) view of the
    model; ``model`` itself is left untouched. Returns the minibatch loss per step.
    """
    steps, batch_size = checks.integer("steps", steps), checks.integer("batch_size", batch_size)
    learning_rate = checks.number("learning_rate", learning_rate)
    inputs = jnp.asarray(inputs, dtype=jnp.float32)
    labels = jnp.asarray(labels)
    if inputs.ndim != 2 or labels.shape != (inputs.shape[0],):
        raise ValueError(f"inputs must be (n, features) and labels (n,), got {inputs.shape} and {labels.shape}")
    graphdef, params = nnx.split(model, nnx.Param)
    losses = _train(graphdef, params, inputs, labels, runtime.key(seed), float(learning_rate), float(momentum),
                    steps, batch_size)
    losses = np.asarray(losses)
    if not np.all(np.isfinite(losses)):
        raise FloatingPointError("training diverged (NaN loss); lower learning_rate")
    return losses


@functools.partial(jax.jit, static_argnames=("graphdef", "momentum", "steps", "batch_size"))
def _train(graphdef, params, inputs, labels, key, learning_rate, momentum, steps, batch_size):
    tx = optax.sgd(learning_rate, momentum=momentum)

    def loss(params, x, y):
        logits = nnx.merge(graphdef, params)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def step(carry, key):
        params, opt_state = carry
        batch = jax.random.randint(key, (batch_size,), 0, inputs.shape[0])
        value, grads = jax.value_and_grad(loss)(params, inputs[batch], labels[batch])
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    _, losses = jax.lax.scan(step, (params, tx.init(params)), jax.random.split(key, steps))
    return losses


def steps_to_loss(losses, target: float, window: int = 10) -> int:
    """First step at which the running mean (over ``window`` steps) of ``losses`` is ≤ ``target``.

    Returns len(losses) when the target is never reached.
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 1 or losses.size < window:
        raise ValueError(f"losses must be 1-D with at least window={window} entries")
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    below = np.flatnonzero(smooth <= target)
    return int(below[0] + window - 1) if below.size else len(losses)


def steps_to_target(phi: Phi, q: float, weights: str, images, labels, *, depth: int, width: int,
                    steps: int, learning_rates, target: float, seeds,
                    batch_size: int = 64, classes: int = 10) -> np.ndarray:
    """Training steps to a loss for critical networks at q*, one random start per seed.

    The paper's learning-speed measurement (its CIFAR-10 training curves): a
    :class:`DeepNetwork` of ``depth`` × ``width`` on the critical line of ``phi`` at ``q``
    (:func:`critical_line`), inputs scaled to the fixed point (:func:`fixed_point_inputs`),
    trained by :func:`training_curve`; speed is :func:`steps_to_loss` at ``target``. Each seed
    draws the initial weights (``nnx.Rngs(seed)``) and the minibatch order, and takes the
    best of ``learning_rates`` (fewest steps). A start that never reaches the target, or
    diverges at every rate, counts as ``steps``, so ratios built on it are lower bounds.
    ``classes`` is the number of logits. Returns one step count per seed.
    """
    q = checks.number("q", q)
    target = checks.number("target", target)
    rates = [checks.number("learning_rates", lr) for lr in np.atleast_1d(learning_rates)]
    seeds = [checks.integer("seeds", s, minimum=0) for s in np.atleast_1d(seeds)]
    if not rates or not seeds:
        raise ValueError("learning_rates and seeds must each hold at least one value")
    sigma_w, sigma_b = (float(a) for a in critical_line(phi, q))
    x = fixed_point_inputs(images, phi, sigma_w, sigma_b)
    counts = []
    for seed in seeds:
        model = DeepNetwork(phi, depth, width, x.shape[1], classes, sigma_w, sigma_b, weights,
                            rngs=nnx.Rngs(seed))
        best = steps
        for lr in rates:
            try:
                losses = training_curve(model, x, labels, steps=steps, batch_size=batch_size,
                                        learning_rate=lr, seed=seed)
            except FloatingPointError:
                continue
            best = min(best, steps_to_loss(losses, target))
        counts.append(best)
    return np.array(counts)
