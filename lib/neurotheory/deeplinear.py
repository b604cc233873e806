"""Exact learning dynamics of deep linear networks, and the hierarchical data they learn.

Saxe, McClelland & Ganguli, *A mathematical theory of semantic development in deep neural
networks*, PNAS 2019 (arXiv:1810.10531), building on Saxe, McClelland & Ganguli, ICLR 2014.

A network ŷ = W_N ⋯ W_2 W_1 x trained by gradient descent on
L = (1/2P) Σ_μ ‖y_μ − W_tot x_μ‖² with whitened inputs (Σ_x = I) sees the data only through
the input-output correlation Σ_yx = (1/P) Σ_μ y_μ x_μᵀ = U S Vᵀ. Started small and balanced,
each singular mode α is learned on its own: its strength a_α = u_αᵀ W_tot v_α follows a
sigmoid whose timing is set by the singular value s_α.

Contents: the closed forms (:func:`mode_strength`, :func:`shallow_mode_strength`,
:func:`deep_mode_strength`, :func:`half_learning_time`); the data (:func:`eight_items`,
:func:`branching_diffusion`, :func:`hierarchical_data`, :func:`hierarchy_singular_values`,
:func:`noisy_category`, :func:`structural_form`, :func:`form_covariance`,
:func:`gaussian_features`); the SVD view (:func:`input_output_modes`, :func:`mode_strengths`,
:func:`initial_mode_strength`, :func:`expected_modes`, :func:`noise_threshold`,
:func:`noisy_mode`);
training (:class:`DeepLinearNetwork`, :func:`train_deep_linear`, :func:`decoupled_weights`);
representations (:func:`hidden_representations`, :func:`similarity_matrix`,
:func:`predicted_similarity`, :func:`predicted_feature_similarity`, :func:`inductive_projection`,
:func:`similarity_correlation`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from neurotheory import checks, runtime


# ----------------------------------------------------------------------------- validation

def _array(name: str, value, *, ndim: int | None = None, positive: bool = False,
           non_negative: bool = False) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers") from err
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has NaN or infinite values")
    if positive and np.any(a <= 0):
        raise ValueError(f"{name} must be positive everywhere, got minimum {a.min():g}")
    if non_negative and np.any(a < 0):
        raise ValueError(f"{name} must be non-negative everywhere, got minimum {a.min():g}")
    return a


# ----------------------------------------------------------------------------- closed forms

def mode_strength(t, s, a0, tau: float = 1.0) -> np.ndarray:
    """Strength of one mode in a network with one hidden layer: the paper's exact solution.

    a(t) = s e^{2st/τ} / (e^{2st/τ} − 1 + s/a₀),

    the solution of τ da/dt = 2a(s − a) from a(0) = a₀: a sigmoid from a₀ to s with its
    steepest rise at t ≈ (τ/2s) ln(s/a₀). ``t`` (≥ 0), ``s`` (> 0) and ``a0`` (> 0) broadcast.
    """
    t = _array("t", t, non_negative=True)
    s = _array("s", s, positive=True)
    a0 = _array("a0", a0, positive=True)
    tau = checks.number("tau", tau)
    decay = np.exp(-2.0 * s * t / tau)          # divided through by e^{2st/τ}: no overflow
    return s / (1.0 - decay + (s / a0) * decay)


def shallow_mode_strength(t, s, a0, tau: float = 1.0) -> np.ndarray:
    """Strength of one mode with no hidden layer (ŷ = W x): τ da/dt = s − a, so

    a(t) = s + (a₀ − s) e^{−t/τ}   (the paper's shallow-network comparison):

    an exponential approach with no plateau and a time scale τ independent of s.
    """
    t = _array("t", t, non_negative=True)
    s = _array("s", s, positive=True)
    a0 = _array("a0", a0, non_negative=True)
    tau = checks.number("tau", tau)
    return s + (a0 - s) * np.exp(-t / tau)


@functools.partial(jax.jit, static_argnames=("n_layers", "n_steps"))
def _integrate_log_strength(t, s, a0, tau, n_layers: int, n_steps: int):
    """RK4 for x = ln a under τ dx/dt = N a^{1−2/N} (s − a), each element to its own t."""
    dt = t / n_steps

    def rate(x):
        a = jnp.exp(x)
        return n_layers * a ** (1.0 - 2.0 / n_layers) * (s - a) / tau

    def step(x, _):
        k1 = rate(x)
        k2 = rate(x + 0.5 * dt * k1)
        k3 = rate(x + 0.5 * dt * k2)
        k4 = rate(x + dt * k3)
        return x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), None

    x, _ = jax.lax.scan(step, jnp.log(a0), None, length=n_steps)
    return jnp.exp(x)


def deep_mode_strength(t, s, a0, n_hidden_layers: int = 1, tau: float = 1.0,
                       n_steps: int = 2000) -> np.ndarray:
    """Strength a = c^N of one mode in a balanced network of N = n_hidden_layers + 1 layers.

    Each layer carries the mode with strength c and τ dc/dt = c^{N−1}(s − c^N) (Saxe et al.
    2014, for deeper networks), so

    τ da/dt = N a^{2−2/N} (s − a).

    N = 2 is :func:`mode_strength`, N = 1 :func:`shallow_mode_strength`. For N > 2 there is
    no elementary closed form; this integrates ln a with ``n_steps`` RK4 steps (each element
    to its own time). ``t``, ``s`` and ``a0`` broadcast.
    """
    t = _array("t", t, non_negative=True)
    s = _array("s", s, positive=True)
    a0 = _array("a0", a0, positive=True)
    n_layers = checks.integer("n_hidden_layers", n_hidden_layers, minimum=0) + 1
    tau = checks.number("tau", tau)
    n_steps = checks.integer("n_steps", n_steps)
    t, s, a0 = np.broadcast_arrays(t, s, a0)
    with runtime.float64():
        a = _integrate_log_strength(jnp.asarray(t), jnp.asarray(s), jnp.asarray(a0), tau,
                                    n_layers, n_steps)
        return np.asarray(a)


def half_learning_time(s, a0, n_hidden_layers: int = 1, tau: float = 1.0) -> np.ndarray:
    """Time at which a mode reaches half its final strength, a(t½) = s/2.

    One hidden layer (PNAS 2019): t½ = (τ/2s) ln(s/a₀ − 1), essentially τ ln(s/a₀)/2s, so
    stronger modes are learned first, in time ∝ 1/s. Other depths: the integral
    t½ = τ ∫_{ln a₀}^{ln s/2} du / (N e^{(1−2/N)u} (s − e^u)) of :func:`deep_mode_strength`,
    by 64-point Gauss–Legendre quadrature. Needs a₀ < s/2.
    """
    s = _array("s", s, positive=True)
    a0 = _array("a0", a0, positive=True)
    n_layers = checks.integer("n_hidden_layers", n_hidden_layers, minimum=0) + 1
    tau = checks.number("tau", tau)
    if np.any(a0 >= s / 2):
        raise ValueError("a0 must be below s/2 for a half-learning time")
    if n_layers == 2:
        return tau / (2 * s) * np.log(s / a0 - 1)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    lo, hi = np.log(a0), np.log(s / 2)
    u = (lo + hi)[..., None] / 2 + (hi - lo)[..., None] / 2 * nodes
    integrand = 1.0 / (n_layers * np.exp((1 - 2 / n_layers) * u) * (s[..., None] - np.exp(u)))
    return tau * (hi - lo) / 2 * np.sum(weights * integrand, axis=-1)


# ----------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Dataset:
    """Items as whitened one-hot inputs and their features.

    ``X`` is √P·I (P × P), so Σ_x = XᵀX/P = I; ``Y`` is P × n_features; ``categories[i]``
    lists item i's categories from broadest to finest.
    """

    X: np.ndarray
    Y: np.ndarray
    items: tuple[str, ...]
    features: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]


def one_hot_inputs(n_items: int) -> np.ndarray:
    """√P·I: one input unit per item, scaled so the input correlation Σ_x is the identity."""
    n_items = checks.integer("n_items", n_items)
    return np.sqrt(n_items) * np.eye(n_items)


_EIGHT_ITEMS = {
    "canary": ("animal", "bird"), "robin": ("animal", "bird"),
    "salmon": ("animal", "fish"), "sunfish": ("animal", "fish"),
    "oak": ("plant", "tree"), "pine": ("plant", "tree"),
    "rose": ("plant", "flower"), "daisy": ("plant", "flower"),
}

_EIGHT_FEATURES = {
    "can grow": "canary robin salmon sunfish oak pine rose daisy",
    "is living": "canary robin salmon sunfish oak pine rose daisy",
    "can move": "canary robin salmon sunfish",
    "has skin": "canary robin salmon sunfish",
    "has eyes": "canary robin salmon sunfish",
    "has roots": "oak pine rose daisy",
    "needs light": "oak pine rose daisy",
    "can fly": "canary robin",
    "has wings": "canary robin",
    "has feathers": "canary robin",
    "can swim": "salmon sunfish",
    "has gills": "salmon sunfish",
    "has bark": "oak pine",
    "is big": "oak pine",
    "has petals": "rose daisy",
    "has leaves": "oak rose daisy",
    "can sing": "canary",
    "is yellow": "canary",
    "is kept as a pet": "canary",
    "has a red breast": "robin",
    "is pink": "salmon",
    "is flat": "sunfish",
    "has acorns": "oak",
    "has hard wood": "oak",
    "has needles": "pine",
    "is evergreen": "pine",
    "has thorns": "rose",
    "is white": "daisy",
    "is small": "daisy",
}


def eight_items() -> Dataset:
    """The classic eight items of Rumelhart & Todd (1993) with named properties.

    canary, robin (birds), salmon, sunfish (fish), oak, pine (trees), rose, daisy (flowers);
    properties shared at every level of the hierarchy plus one exception (pine has no
    leaves). Features are 1 (has) or 0 (has not).
    """
    items = tuple(_EIGHT_ITEMS)
    features = tuple(_EIGHT_FEATURES)
    Y = np.array([[item in _EIGHT_FEATURES[f].split() for f in features] for item in items], float)
    return Dataset(one_hot_inputs(len(items)), Y, items, features,
                   tuple(_EIGHT_ITEMS[i] for i in items))


_BIRD_FEATURES = ("has feathers", "has wings", "has a beak", "can fly", "builds nests", "sings")
_FISH_FEATURES = ("has gills", "has fins", "can swim", "has scales", "lives in water")
_TYPICALITY_MEMBERS = {
    "robin": _BIRD_FEATURES, "sparrow": _BIRD_FEATURES[:5], "ostrich": _BIRD_FEATURES[:3],
    "penguin": _BIRD_FEATURES[:3] + ("can swim",),
    "salmon": _FISH_FEATURES, "trout": _FISH_FEATURES, "tuna": _FISH_FEATURES[:4],
    "eel": ("has gills", "can swim", "lives in water"),
}


def birds_and_fish() -> Dataset:
    """Four birds and four fish that share their category's properties to different degrees.

    The robin has all six bird properties, the sparrow five, the ostrich three and the penguin
    three and "can swim"; salmon and trout have all five fish properties, the tuna four and
    the eel three. An item's weight in the bird-versus-fish singular vector is its typicality
    (Saxe, McClelland & Ganguli 2019, section on typicality).
    """
    items = tuple(_TYPICALITY_MEMBERS)
    features = _BIRD_FEATURES + _FISH_FEATURES
    Y = np.array([[f in _TYPICALITY_MEMBERS[i] for f in features] for i in items], float)
    return Dataset(one_hot_inputs(len(items)), Y, items, features,
                   tuple(("animal", "bird" if i < 4 else "fish") for i in range(len(items))))


def _tree(depth, branching, n_features, flip) -> tuple[int, int, int, float]:
    """Checked parameters of a branching diffusion: flip probability in [0, 1/2]."""
    depth = checks.integer("depth", depth)
    branching = checks.integer("branching", branching, minimum=2)
    n_features = checks.integer("n_features", n_features)
    flip = checks.number("flip", flip, allow_zero=True)
    if flip > 0.5:
        raise ValueError(f"flip must be at most 0.5, got {flip}")
    return depth, branching, n_features, flip


def branching_diffusion(depth: int, branching: int, n_features: int, flip: float,
                        seed: int = 0) -> np.ndarray:
    """Features of the leaves of a tree, each made by a diffusion down it (the paper's generative model).

    Per feature the root takes ±1 with equal probability; every child copies its parent's
    value and flips its sign with probability ``flip``. Returns the branching**depth leaves
    × ``n_features`` matrix of ±1, leaves in depth-first order.
    """
    depth, branching, n_features, flip = _tree(depth, branching, n_features, flip)
    generator = runtime.rng(seed)
    values = generator.choice([-1.0, 1.0], size=(1, n_features))
    for _ in range(depth):
        values = np.repeat(values, branching, axis=0)
        values = values * np.where(generator.random(values.shape) < flip, -1.0, 1.0)
    return values


def hierarchical_data(depth: int = 3, branching: int = 2, n_features: int = 200,
                      flip: float = 0.1, seed: int = 0) -> Dataset:
    """A data set from :func:`branching_diffusion`: items are the leaves of the tree.

    Items are named by their path from the root (``"0.1.1"``); ``categories[i]`` lists the
    ancestors (``"0"``, ``"0.1"``). Features are named ``"f0"``, ``"f1"``, ….
    """
    Y = branching_diffusion(depth, branching, n_features, flip, seed)
    paths = [".".join(map(str, np.unravel_index(i, (branching,) * depth))) for i in range(len(Y))]
    categories = tuple(tuple(p[: 2 * k - 1] for k in range(1, depth)) for p in paths)
    return Dataset(one_hot_inputs(len(Y)), Y, tuple(paths),
                   tuple(f"f{k}" for k in range(n_features)), categories)


def hierarchy_singular_values(depth: int, branching: int, flip: float,
                              n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Singular values of Σ_yx for branching-diffusion data, level by level (as derived in the paper's SI).

    Two leaves whose lowest common ancestor sits at level k (root 0, leaves D) are
    correlated ρ^{2(D−k)}, ρ = 1 − 2·flip. This ultrametric item covariance C has one
    eigenvector per tree level: the constant vector (level 0) and, for every node at level
    k − 1, the B − 1 contrasts between its children (level k, multiplicity B^{k−1}(B − 1)).
    With eigenvalue λ_k, Σ_yx = Yᵀ/√P has singular values s_k → √(n_features λ_k / P).
    Returns (s_k for k = 0 … D, multiplicities).
    """
    depth, B, n_features, flip = _tree(depth, branching, n_features, flip)
    rho2 = (1.0 - 2.0 * flip) ** 2
    D, P = depth, B ** depth

    def within(level):  # Σ_j C_ij over the leaves j below i's ancestor at `level`
        return 1.0 + sum((B ** (D - k) - B ** (D - k - 1)) * rho2 ** (D - k) for k in range(level, D))

    eig = [within(0)] + [within(k) - B ** (D - k) * rho2 ** (D - k + 1) for k in range(1, D + 1)]
    multiplicity = [1] + [B ** (k - 1) * (B - 1) for k in range(1, D + 1)]
    return np.sqrt(n_features * np.array(eig) / P), np.array(multiplicity)


def noisy_category(n_items: int, n_features: int, category_items: int, category_features: int,
                   strength: float, noise: float, seed: int = 0) -> Dataset:
    """One category buried in noise: Y = S·1_{K_o} 1_{K_f}ᵀ (in the corner) + σ·G.

    The first ``category_items`` (K_o) of ``n_items`` items share the first
    ``category_features`` (K_f) features with value ``strength`` (S); every entry of Y
    (``n_items`` × ``n_features``) also gets independent Gaussian noise of standard deviation
    ``noise`` (σ), the paper's model for category coherence. The category's singular value
    in Y is S√(K_o K_f); whether it stands out of the noise is :func:`noise_threshold`.
    """
    n_items = checks.integer("n_items", n_items)
    n_features = checks.integer("n_features", n_features)
    k_items = checks.integer("category_items", category_items)
    k_features = checks.integer("category_features", category_features)
    if k_items > n_items or k_features > n_features:
        raise ValueError(f"the category ({k_items} items × {k_features} features) must fit in "
                         f"{n_items} items × {n_features} features")
    strength = checks.number("strength", strength, allow_zero=True)
    noise = checks.number("noise", noise, allow_zero=True)
    Y = noise * runtime.rng(seed).standard_normal((n_items, n_features))
    Y[:k_items, :k_features] += strength
    return Dataset(one_hot_inputs(n_items), Y, tuple(f"item {i}" for i in range(n_items)),
                   tuple(f"f{k}" for k in range(n_features)),
                   tuple(("category",) if i < k_items else ("other",) for i in range(n_items)))


_FORMS = ("clusters", "chain", "ring", "grid")


def structural_form(form: str, n_items: int, n_clusters: int = 4) -> np.ndarray:
    """Adjacency matrix of a structural form (Kemp & Tenenbaum 2008, as used in the paper).

    ``"clusters"``: ``n_clusters`` equal groups, every pair within a group linked;
    ``"chain"``: an ordering, item i linked to i + 1; ``"ring"``: a chain closed into a
    circle; ``"grid"``: a √n × √n lattice (items row by row), linked to their four neighbours.
    """
    if form not in _FORMS:
        raise ValueError(f"form must be one of {_FORMS}, got {form!r}")
    n = checks.integer("n_items", n_items, minimum=2)
    A = np.zeros((n, n))
    if form == "clusters":
        n_clusters = checks.integer("n_clusters", n_clusters)
        if n % n_clusters:
            raise ValueError(f"n_items ({n}) must be a multiple of n_clusters ({n_clusters})")
        group = np.arange(n) // (n // n_clusters)
        A = (group[:, None] == group[None, :]).astype(float)
    elif form in ("chain", "ring"):
        i = np.arange(n - 1 if form == "chain" else n)
        A[i, (i + 1) % n] = 1.0
    else:
        side = int(round(np.sqrt(n)))
        if side * side != n:
            raise ValueError(f"n_items must be a perfect square for a grid, got {n}")
        row, col = np.divmod(np.arange(n), side)
        A = ((np.abs(row[:, None] - row) + np.abs(col[:, None] - col)) == 1).astype(float)
    A = np.maximum(A, A.T)
    np.fill_diagonal(A, 0.0)
    return A


def form_covariance(adjacency, variance: float = 1.0) -> np.ndarray:
    """Covariance of features that vary smoothly over a graph: Σ = (L + I/σ²)⁻¹.

    L = D − A is the graph Laplacian of ``adjacency`` (A), σ² = ``variance``. Features drawn
    from N(0, Σ) are similar on linked items (Kemp & Tenenbaum 2008); Σ's eigenvectors are
    L's, with eigenvalues 1/(λ_L + 1/σ²), so the smoothest patterns on the graph carry the
    most variance: for a ring, Fourier modes; for clusters, the cluster indicators.
    """
    A = _array("adjacency", adjacency, ndim=2, non_negative=True)
    if A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
        raise ValueError(f"adjacency must be a symmetric square matrix, got shape {A.shape}")
    variance = checks.number("variance", variance)
    laplacian = np.diag(A.sum(axis=1)) - A
    return np.linalg.inv(laplacian + np.eye(len(A)) / variance)


def _check_covariance(covariance) -> np.ndarray:
    S = _array("covariance", covariance, ndim=2)
    if S.shape[0] != S.shape[1] or not np.allclose(S, S.T):
        raise ValueError(f"covariance must be a symmetric square matrix, got shape {S.shape}")
    if np.linalg.eigvalsh(S)[0] <= 0:
        raise ValueError("covariance must be positive definite")
    return S


def gaussian_features(covariance, n_features: int, seed: int = 0) -> Dataset:
    """Items with ``n_features`` independent features, each drawn from N(0, ``covariance``).

    Y = C Z with C Cᵀ = Σ (Cholesky) and Z standard normal (P × n_features), so YYᵀ/n_features
    → Σ and Σ_yx has the singular values :func:`expected_modes` predicts.
    """
    C = np.linalg.cholesky(_check_covariance(covariance))
    n_features = checks.integer("n_features", n_features)
    Y = C @ runtime.rng(seed).standard_normal((len(C), n_features))
    return Dataset(one_hot_inputs(len(C)), Y, tuple(f"item {i}" for i in range(len(C))),
                   tuple(f"f{k}" for k in range(n_features)), ((),) * len(C))


# ----------------------------------------------------------------------------- the SVD view

@dataclass(frozen=True)
class Modes:
    """Σ_yx = U diag(s) Vᵀ: ``U`` is n_out × k (feature vectors), ``V`` n_in × k (item vectors)."""

    U: np.ndarray
    s: np.ndarray
    V: np.ndarray


def _check_modes(modes) -> "Modes":
    if not isinstance(modes, Modes):
        raise TypeError(f"modes must be the Modes from input_output_modes, got {type(modes).__name__}")
    return modes


def _check_data(X, Y) -> tuple[np.ndarray, np.ndarray]:
    X = _array("X", X, ndim=2)
    Y = _array("Y", Y, ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows (examples), "
                         f"got {X.shape[0]} and {Y.shape[0]}")
    return X, Y


def input_output_modes(X, Y, rtol: float = 1e-6) -> Modes:
    """The SVD of Σ_yx = (1/P) Σ_μ y_μ x_μᵀ = YᵀX/P, singular values above ``rtol``·s_max.

    Signs are fixed so that each v_α's first clearly non-zero entry is positive (for the
    eight items: animals positive on the animal–plant mode, birds on bird–fish).
    """
    X, Y = _check_data(X, Y)
    U, s, Vt = np.linalg.svd(Y.T @ X / X.shape[0], full_matrices=False)
    if s[0] == 0:
        raise ValueError("Σ_yx = YᵀX/P is zero: the outputs Y carry nothing to learn from X")
    keep = s > rtol * s[0]
    U, s, V = U[:, keep], s[keep], Vt[keep].T
    first = np.argmax(np.abs(V) > 1e-6 * np.abs(V).max(axis=0), axis=0)
    signs = np.sign(V[first, np.arange(V.shape[1])])
    return Modes(U * signs, s, V * signs)


def mode_strengths(product, modes: Modes) -> np.ndarray:
    """a_α = u_αᵀ W_tot v_α for every mode, over any leading axes of ``product`` (…, n_out, n_in)."""
    _check_modes(modes)
    product = _array("product", product)
    if product.shape[-2:] != (modes.U.shape[0], modes.V.shape[0]):
        raise ValueError(f"product must end in shape {(modes.U.shape[0], modes.V.shape[0])}, "
                         f"got {product.shape}")
    return np.einsum("ik,...ij,jk->...k", modes.U, product, modes.V)


def initial_mode_strength(weights: Sequence, modes: Modes) -> np.ndarray:
    """The a₀ that small random weights of a one-hidden-layer network effectively start from.

    Early in learning the cubic terms are negligible and p = W₁v_α, q = W₂ᵀu_α obey
    τ ṗ = s q, τ q̇ = s p: p − q decays while p + q grows as e^{st/τ}. So the mode strength
    qᵀp soon equals ‖p₀ + q₀‖²/4 · e^{2st/τ}, the early part of :func:`mode_strength` with

    a₀ = ‖W₁(0) v_α + W₂(0)ᵀ u_α‖² / 4.
    """
    _check_modes(modes)
    if len(weights) != 2:
        raise ValueError("weights must be the two matrices (W1, W2) of a one-hidden-layer network, "
                         f"got {len(weights)}")
    W1, W2 = (_array(f"weights[{i}]", w, ndim=2) for i, w in enumerate(weights))
    if W1.shape[1] != modes.V.shape[0] or W2.shape[0] != modes.U.shape[0] or W1.shape[0] != W2.shape[1]:
        raise ValueError(f"weights of shapes {W1.shape}, {W2.shape} do not fit modes of Σ_yx "
                         f"{modes.U.shape[0]} × {modes.V.shape[0]}")
    return np.sum((W1 @ modes.V + W2.T @ modes.U) ** 2, axis=0) / 4


def product_from_modes(a, modes: Modes) -> np.ndarray:
    """W_tot = Σ_α a_α u_α v_αᵀ = U diag(a) Vᵀ over any leading axes of ``a`` (…, k)."""
    _check_modes(modes)
    a = _array("a", a)
    if a.shape[-1] != modes.s.shape[0]:
        raise ValueError(f"a must end in the number of modes {modes.s.shape[0]}, got shape {a.shape}")
    return np.einsum("ik,...k,jk->...ij", modes.U, a, modes.V)


def expected_modes(covariance, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Singular values and item vectors of Σ_yx for features drawn from N(0, Σ) over P items.

    With one-hot inputs Σ_yx = Yᵀ/√P and YYᵀ → n_features·Σ, so Σ_yx has item vectors the
    eigenvectors of Σ and singular values s_k = √(n_features λ_k / P), strongest first (the
    general form of :func:`hierarchy_singular_values`). Returns (s, V) with V's columns
    the item vectors.
    """
    S = _check_covariance(covariance)
    n_features = checks.integer("n_features", n_features)
    eigenvalues, vectors = np.linalg.eigh(S)
    order = np.argsort(eigenvalues)[::-1]
    return np.sqrt(n_features * eigenvalues[order] / len(S)), vectors[:, order]


def _check_shape(shape) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"shape must be (rows, columns), got {shape}")
    return (checks.integer("shape[0]", shape[0]), checks.integer("shape[1]", shape[1]))


def noise_threshold(shape, noise: float) -> float:
    """The smallest singular value a rank-one signal needs to stand out of noise: σ (N₁N₂)^{1/4}.

    For an N₁ × N₂ matrix θ u vᵀ + σG with G independent standard Gaussian entries, the
    largest singular value separates from the noise bulk (edge σ(√N₁ + √N₂)) and its
    singular vectors point toward u and v only when θ > σ (N₁N₂)^{1/4} (the BBP transition;
    Benaych-Georges & Nadakuditi 2012). In the paper this is the condition for a category
    to be learned: its coherence S²K_oK_f/(σ²√(N_oN_f)) must exceed 1.
    """
    n1, n2 = _check_shape(shape)
    noise = checks.number("noise", noise)
    return noise * (n1 * n2) ** 0.25


def noisy_mode(s, shape, noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What noise does to a mode of singular value ``s``: (ŝ, |û·u|², |v̂·v|²) for N₁ ≫ 1.

    For θ u vᵀ + σG of shape (N₁, N₂), write n = max(N₁, N₂), c = min/max and t = θ/(σ√n).
    Above the threshold t > c^{1/4} (:func:`noise_threshold`),

    ŝ = σ√n √((1 + t²)(c + t²))/t,
    overlap on the short side 1 − c(1 + t²)/(t²(t² + c)), on the long side
    1 − (c + t²)/(t²(t² + 1));

    below it ŝ sticks to the bulk edge σ(√N₁ + √N₂) and both overlaps vanish
    (Benaych-Georges & Nadakuditi 2012). ``û`` lives in the N₁ rows, ``v̂`` in the N₂ columns.
    """
    theta = _array("s", s, non_negative=True)
    n1, n2 = _check_shape(shape)
    noise = checks.number("noise", noise)
    n, c = max(n1, n2), min(n1, n2) / max(n1, n2)
    t = theta / (noise * np.sqrt(n))
    above = t > c ** 0.25
    t = np.where(above, t, 1.0)                              # a placeholder where below
    value = np.where(above, noise * np.sqrt(n) * np.sqrt((1 + t**2) * (c + t**2)) / t,
                     noise * (np.sqrt(n1) + np.sqrt(n2)))
    short = np.where(above, 1 - c * (1 + t**2) / (t**2 * (t**2 + c)), 0.0)
    long = np.where(above, 1 - (c + t**2) / (t**2 * (t**2 + 1)), 0.0)
    return (value, short, long) if n1 <= n2 else (value, long, short)


# ----------------------------------------------------------------------------- training

# A list of layers inside a module: nnx.List from Flax 0.12 on, a plain list before.
_Layers = getattr(nnx, "List", list)


class DeepLinearNetwork(nnx.Module):
    """ŷ = W_N ⋯ W_2 W_1 x: bias-free linear layers of sizes n_in → hidden … → n_out.

    Weights start independent Gaussian with standard deviation ``init_scale``.
    """

    def __init__(self, sizes: Sequence[int], *, init_scale: float, rngs: nnx.Rngs):
        init = nnx.initializers.normal(stddev=init_scale)
        self.layers = _Layers([nnx.Linear(n_in, n_out, use_bias=False, kernel_init=init, rngs=rngs)
                               for n_in, n_out in zip(sizes[:-1], sizes[1:])])

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers:
            x = layer(x)
        return x


@dataclass(frozen=True)
class Training:
    """A training run recorded every ``record_every`` steps.

    ``t``: time in units of τ (lr·step), shape (R,); ``product``: W_tot, (R, n_out, n_in);
    ``weights``: W_1 … W_N, each (R, n_out_l, n_in_l); ``loss``: L at each record, (R,).
    """

    t: np.ndarray
    product: np.ndarray
    weights: tuple[np.ndarray, ...]
    loss: np.ndarray


def _loss(graphdef, params, X, Y):
    """L = (1/2P) Σ_μ ‖y_μ − W_tot x_μ‖²."""
    return 0.5 * jnp.mean(jnp.sum((Y - nnx.merge(graphdef, params)(X)) ** 2, axis=-1))


@functools.partial(jax.jit, static_argnums=(0, 5, 6))
def _gradient_descent(graphdef, params, X, Y, lr, n_records: int, record_every: int):
    """Full-batch gradient descent (optax.sgd); lax.scan over records, and over steps within."""
    optimizer = optax.sgd(lr)

    def step(carry, _):
        params, opt_state = carry
        grads = jax.grad(lambda p: _loss(graphdef, p, X, Y))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    def record(carry, _):
        carry, _ = jax.lax.scan(step, carry, None, length=record_every)
        return carry, (carry[0], _loss(graphdef, carry[0], X, Y))

    start = (params, optimizer.init(params))
    _, (history, losses) = jax.lax.scan(record, start, None, length=n_records)
    stack = lambda first, rest: jnp.concatenate([first[None], rest])
    return (jax.tree.map(stack, params, history), stack(_loss(graphdef, params, X, Y), losses))


def train_deep_linear(X, Y, hidden: int, *, lr: float, steps: int, init_scale: float,
                      n_hidden_layers: int = 1, seed: int = 0, record_every: int = 1,
                      initial_weights: Sequence | None = None) -> Training:
    """Train ŷ = W_tot x by full-batch gradient descent on L = (1/2P) Σ_μ ‖y_μ − W_tot x_μ‖².

    ``X`` is (P, n_in), ``Y`` (P, n_out); ``n_hidden_layers`` hidden layers of width
    ``hidden`` (0: a shallow network ŷ = W x). Weights start independent Gaussian with
    standard deviation ``init_scale`` (seeded by ``runtime.key(seed)``), or at
    ``initial_weights`` (W_1 … W_N as (n_out_l, n_in_l) matrices, e.g. from
    :func:`decoupled_weights`). The gradient flow is τ dW/dt = −∂L/∂W with τ = 1/lr, so the
    result's time is t = lr·step. Runs as one ``jit``-compiled ``lax.scan``; ``steps`` must
    be a multiple of ``record_every`` (records at steps 0, record_every, …, steps).
    """
    X, Y = _check_data(X, Y)
    hidden = checks.integer("hidden", hidden)
    lr = checks.number("lr", lr)
    steps = checks.integer("steps", steps)
    init_scale = checks.number("init_scale", init_scale, allow_zero=initial_weights is not None)
    n_hidden_layers = checks.integer("n_hidden_layers", n_hidden_layers, minimum=0)
    record_every = checks.integer("record_every", record_every)
    if steps % record_every:
        raise ValueError(f"steps ({steps}) must be a multiple of record_every ({record_every})")
    sizes = [X.shape[1]] + [hidden] * n_hidden_layers + [Y.shape[1]]
    model = DeepLinearNetwork(sizes, init_scale=init_scale, rngs=nnx.Rngs(params=runtime.key(seed)))
    if initial_weights is not None:
        if len(initial_weights) != len(sizes) - 1:
            raise ValueError(f"initial_weights must hold {len(sizes) - 1} matrices, got {len(initial_weights)}")
        for i, (layer, W) in enumerate(zip(model.layers, initial_weights)):
            W = _array(f"initial_weights[{i}]", W, ndim=2)
            if W.T.shape != layer.kernel.shape:
                raise ValueError(f"initial_weights[{i}] must have shape {layer.kernel.shape[::-1]}, "
                                 f"got {W.shape}")
            layer.kernel = nnx.Param(jnp.asarray(W.T, dtype=layer.kernel.dtype))
    graphdef, params = nnx.split(model, nnx.Param)
    history, losses = _gradient_descent(graphdef, params, jnp.asarray(X, jnp.float32),
                                        jnp.asarray(Y, jnp.float32), lr, steps // record_every,
                                        record_every)
    weights = tuple(np.asarray(jnp.swapaxes(layer.kernel[...], -1, -2))
                    for layer in nnx.merge(graphdef, history).layers)
    losses = np.asarray(losses)
    if not np.all(np.isfinite(losses)):
        raise FloatingPointError(f"training diverged (loss became {losses[~np.isfinite(losses)][0]}); "
                                 f"lower lr={lr}")
    product = functools.reduce(lambda below, W: W @ below, weights[1:], weights[0])
    t = lr * record_every * np.arange(steps // record_every + 1)
    return Training(t, product, weights, losses)


def decoupled_weights(modes: Modes, hidden: int, a0, n_hidden_layers: int = 1,
                      seed: int = 0) -> tuple[np.ndarray, ...]:
    """Small balanced weights that already carry each mode separately (Saxe et al. 2014).

    W_1 = R_1 C Vᵀ, W_l = R_l C R_{l−1}ᵀ, W_N = U C R_{N−1}ᵀ with R_l random orthonormal
    hidden × k frames and C = diag(a₀^{1/N}): the product is U diag(a₀) Vᵀ, every layer
    carries mode α with the same strength, and gradient descent keeps the modes apart, so
    each follows :func:`deep_mode_strength` exactly (for whitened inputs).
    """
    _check_modes(modes)
    hidden = checks.integer("hidden", hidden)
    n_hidden_layers = checks.integer("n_hidden_layers", n_hidden_layers, minimum=0)
    k = modes.s.shape[0]
    a0 = np.broadcast_to(_array("a0", a0, positive=True), (k,))
    if n_hidden_layers and hidden < k:
        raise ValueError(f"hidden ({hidden}) must be at least the number of modes ({k})")
    c = a0 ** (1.0 / (n_hidden_layers + 1))
    keys = jax.random.split(runtime.key(seed), max(n_hidden_layers, 1))
    frames = [modes.V] + [np.linalg.qr(np.asarray(jax.random.normal(kk, (hidden, k))))[0]
                          for kk in keys[:n_hidden_layers]] + [modes.U]
    return tuple((frames[l + 1] * c) @ frames[l].T for l in range(n_hidden_layers + 1))


# ----------------------------------------------------------------------------- representations

def hidden_representations(weights: Sequence, X, layer: int = 1) -> np.ndarray:
    """h = W_layer ⋯ W_1 x for every input: (…, P, hidden) from weights with leading axes (…)."""
    layer = checks.integer("layer", layer)
    if layer > len(weights) - 1:
        raise ValueError(f"layer must be a hidden layer, 1 … {len(weights) - 1}, got {layer}")
    X = _array("X", X, ndim=2)
    h = X @ np.swapaxes(weights[0], -1, -2)
    for W in weights[1:layer]:
        h = h @ np.swapaxes(W, -1, -2)
    return h


def similarity_matrix(representations) -> np.ndarray:
    """Representational similarity Σ_ij = h_i · h_j between items (…, P, P)."""
    h = _array("representations", representations)
    if h.ndim < 2:
        raise ValueError(f"representations must be (…, items, units), got shape {h.shape}")
    return h @ np.swapaxes(h, -1, -2)


def _strengths_at_layer(modes, a, layer, n_hidden_layers) -> tuple[np.ndarray, float]:
    """Checked mode strengths a and the fraction layer/N of the way up to the output."""
    _check_modes(modes)
    n_layers = checks.integer("n_hidden_layers", n_hidden_layers) + 1
    layer = checks.integer("layer", layer)
    if layer >= n_layers:
        raise ValueError(f"layer must be 1 … {n_layers - 1}, got {layer}")
    return _array("a", a, non_negative=True), layer / n_layers


def predicted_similarity(modes: Modes, a, X, layer: int = 1, n_hidden_layers: int = 1) -> np.ndarray:
    """Hidden similarity of a balanced network (the paper's conserved similarity):

    Σ = X V diag(a^{2·layer/N}) Vᵀ Xᵀ.

    Layer ``layer`` of N = n_hidden_layers + 1 carries each mode with strength a^{layer/N}, so
    the similarity depends only on the data's item vectors V and the mode strengths a: not
    on the hidden width or the random initial weights. ``a`` may have leading axes (…, k).
    """
    a, depth = _strengths_at_layer(modes, a, layer, n_hidden_layers)
    X = _array("X", X, ndim=2)
    XV = X @ modes.V
    return np.einsum("ik,...k,jk->...ij", XV, a ** (2.0 * depth), XV)


def predicted_feature_similarity(modes: Modes, a, layer: int = 1,
                                 n_hidden_layers: int = 1) -> np.ndarray:
    """Similarity of the properties as seen from hidden layer ``layer``, for a balanced network:

    Σ^f = W_out W_outᵀ = U diag(a^{2(N − layer)/N}) Uᵀ,

    where W_out = W_N ⋯ W_{layer+1} maps the hidden layer to the properties (each row is a
    property's output weights), N = n_hidden_layers + 1. For one hidden layer at the end of
    learning, Σ^f = U S Uᵀ. It sets how a novel *item* told a few of its properties
    generalises to the others (:func:`inductive_projection`).
    """
    a, depth = _strengths_at_layer(modes, a, layer, n_hidden_layers)
    return np.einsum("ik,...k,jk->...ij", modes.U, a ** (2.0 * (1 - depth)), modes.U)


def inductive_projection(similarity, item) -> np.ndarray:
    """How one new fact generalises along a learned similarity (the paper's inductive projection).

    A novel property taught for item i: learning its output weights w from the hidden
    representation h_i (one small gradient step, scaled to reach 1 on that item) gives
    w ∝ h_i, so item j gets ŷ_j = h_j · h_i / ‖h_i‖² = Σ_ji / Σ_ii, with Σ the item
    similarity (:func:`similarity_matrix`).

    A novel *item* told that it has the properties K (``item`` a sequence of indices): one
    small gradient step on its hidden representation gives h ∝ Σ_{k∈K} w_k (the rows w_k of
    the output weights), so property j gets ŷ_j ∝ Σ_{k∈K} Σ^f_jk with Σ^f = W_out W_outᵀ
    (:func:`predicted_feature_similarity`), scaled so the taught properties average 1.

    Works over leading axes of ``similarity`` (…, n, n).
    """
    S = _array("similarity", similarity)
    if S.ndim < 2 or S.shape[-1] != S.shape[-2]:
        raise ValueError(f"similarity must be square (…, n, n), got shape {S.shape}")
    taught = [item] if isinstance(item, (int, np.integer)) else list(item)
    if not taught:
        raise ValueError("item must be an index or a non-empty sequence of indices")
    for i in taught:
        checks.integer("item", i, minimum=0)
        if i >= S.shape[-1]:
            raise ValueError(f"item must be below {S.shape[-1]}, got {i}")
    response = S[..., :, taught].sum(axis=-1)
    return response / response[..., taught].mean(axis=-1)[..., None]


def similarity_correlation(first, second) -> float:
    """Pearson correlation of the off-diagonal entries of two similarity matrices."""
    A = _array("first", first, ndim=2)
    B = _array("second", second, ndim=2)
    if A.shape != B.shape or A.shape[0] != A.shape[1]:
        raise ValueError(f"first and second must be square of equal shape, got {A.shape} and {B.shape}")
    upper = np.triu_indices(A.shape[0], k=1)
    return float(np.corrcoef(A[upper], B[upper])[0, 1])
