"""Representational similarity: how alike two networks' hidden states are on the same inputs.

A representation is a matrix X (samples × units): row t holds a network's hidden state at
one (input, time) sample, and two networks are compared on the same samples, so X (n × p)
and Y (n × q) share rows but not units. Every measure here centres each matrix first,
X̄ = J X with J = I − 𝟙𝟙ᵀ/n, so a shift of the state space does not count.

Canonical correlation analysis (Hotelling 1936) finds unit-variance projections Xa, Yb with
the largest correlation, then the largest uncorrelated with those, and so on. With Q_X, Q_Y
orthonormal bases of the column spaces of X̄, Ȳ, the canonical correlations are the singular
values of Q_Xᵀ Q_Y (the cosines of the principal angles between the two subspaces):

    ρ₁ ≥ ρ₂ ≥ … ≥ ρ_m = σ(Q_Xᵀ Q_Y),   m = min(rank X̄, rank Ȳ)       (Björck & Golub 1973)
    d_CCA(X, Y) = 1 − (1/m) Σᵢ ρᵢ                     (Maheswaranathan et al. 2019, Fig. 1c)

SVCCA (Raghu et al. 2017) first keeps, on each side, the fewest leading principal components
that explain a fraction ``variance`` of the variance, so that CCA does not match the noise in
low-variance directions, and then takes d_CCA of those projections. The Procrustes shape
distance (Williams et al. 2021) scales each centred matrix to unit Frobenius norm,
pads the narrower one with zero columns, and asks how close an orthogonal map brings them:

    d_P(X, Y) = min_{Q ∈ O(p)} ‖X̄/‖X̄‖_F − Ȳ Q/‖Ȳ‖_F‖_F = √(2 − 2 ‖X̄ᵀȲ‖_* /(‖X̄‖_F ‖Ȳ‖_F)),

a metric on representations up to translation, rotation, reflection and scale (Williams et al.
also use its angle, arccos ‖X̄ᵀȲ‖_* /(‖X̄‖_F ‖Ȳ‖_F)).

Maheswaranathan, Williams, Golub, Ganguli & Sussillo (2019) compare many recurrent networks
(architectures × nonlinearities × seeds) this way: :func:`pairwise` fills the distance matrix,
:func:`mds` lays it out in the plane (their Fig. 1d), and :func:`nearest_neighbour_accuracy`
and :func:`within_between` say how far the networks cluster by architecture — individuality
in the geometry of the states — where the fixed-point topology is shared (universality).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np

from neurotheory import checks, runtime

EPS = np.finfo(np.float64).eps


def _representation(name: str, value) -> np.ndarray:
    """``value`` as a float64 (samples, units) matrix with at least one entry, all finite."""
    array = np.asarray(value)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, units), got shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sample and one unit, got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has NaN or infinite values")
    return array


def _pair(X, Y) -> tuple[np.ndarray, np.ndarray]:
    """X and Y validated, with the same number of samples (rows)."""
    X, Y = _representation("X", X), _representation("Y", Y)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of samples (rows), "
                         f"got {X.shape[0]} and {Y.shape[0]}")
    return X, Y


def _require_more_samples_than_units(name: str, samples: int, units: int, what: str = "units") -> None:
    """Centring spends one degree of freedom, so n samples span at most n − 1 dimensions; with
    n − 1 ≤ p units X̄ spans all of them and every canonical correlation is trivially 1."""
    if samples - 1 <= units:
        raise ValueError(f"CCA is undefined for {name}: it has {samples} samples (rows) and {units} "
                         f"{what} (columns); after centring it needs more samples than {what}, "
                         f"i.e. at least {units + 2} rows")


def _centred_svd(name: str, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD X̄ = U S Vᵀ of the centred matrix, truncated to its numerical rank.

    A singular value counts when it exceeds max(n, p) · ε · ‖X‖_F, with ‖X‖_F taken before
    centring because that sets the size of the round-off centring leaves behind; so a
    duplicated or constant column adds no direction.
    """
    U, S, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    keep = S > max(X.shape) * EPS * np.linalg.norm(X)
    if not keep.any():
        raise ValueError(f"{name} has no variance: every column is constant")
    return U[:, keep], S[keep], Vt[keep]


def _canonical_correlations(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """ρ = σ(Q_Xᵀ Q_Y) with Q the rank-revealing orthonormal bases of X̄ and Ȳ, clipped to [0, 1]."""
    Q_X, _, _ = _centred_svd("X", X)
    Q_Y, _, _ = _centred_svd("Y", Y)
    return np.clip(np.linalg.svd(Q_X.T @ Q_Y, compute_uv=False), 0.0, 1.0)


def cca(X, Y) -> np.ndarray:
    """Canonical correlations ρ₁ ≥ … ≥ ρ_m of representations X (n, p) and Y (n, q).

    ρ = σ(Q_Xᵀ Q_Y), the singular values of the product of orthonormal bases of the centred
    column spaces (Björck & Golub 1973), m = min(rank X̄, rank Ȳ) — min(p, q) for full-rank
    data. The bases come from an SVD that drops directions below a relative tolerance, so
    duplicated or constant columns do not add spurious correlations of 1. Invariant to any
    invertible linear map and translation of either side. Needs n − 1 > p and n − 1 > q.
    """
    X, Y = _pair(X, Y)
    _require_more_samples_than_units("X", *X.shape)
    _require_more_samples_than_units("Y", *Y.shape)
    return _canonical_correlations(X, Y)


def cca_distance(X, Y) -> float:
    """d_CCA(X, Y) = 1 − mean canonical correlation (Maheswaranathan et al. 2019, Fig. 1c); in [0, 1]."""
    return float(1.0 - cca(X, Y).mean())


def _check_variance(variance) -> float:
    variance = checks.number("variance", variance)
    if variance > 1.0:
        raise ValueError(f"variance must be in (0, 1], got {variance}")
    return variance


def _leading_components(name: str, X: np.ndarray, variance: float) -> np.ndarray:
    """U_k S_k: the scores of X̄ on its k leading principal axes, k the smallest with
    Σ_{i≤k} sᵢ² / Σᵢ sᵢ² ≥ ``variance`` (capped at the rank against round-off at 1)."""
    U, S, _ = _centred_svd(name, X)
    cumulative = np.cumsum(S**2) / np.sum(S**2)
    k = min(int(np.searchsorted(cumulative, variance)) + 1, len(S))
    return U[:, :k] * S[:k]


def principal_components(X, *, variance: float = 0.99) -> np.ndarray:
    """The SVCCA reduction of X (n, p): its scores on the fewest leading principal axes whose
    cumulative variance fraction Σ_{i≤k} sᵢ² / Σᵢ sᵢ² reaches ``variance`` (Raghu et al. 2017,
    step 1); shape (n, k)."""
    return _leading_components("X", _representation("X", X), _check_variance(variance))


def svcca_distance(X, Y, *, variance: float = 0.99) -> float:
    """d_SVCCA(X, Y) = d_CCA(X_k, Y_l), with X_k, Y_l the leading principal components that keep
    a fraction ``variance`` of each side's variance (Raghu et al. 2017; Maheswaranathan et al.
    2019, Fig. 1c). With ``variance=1`` on full-rank data it is :func:`cca_distance`. Needs more
    samples than kept components plus one on each side.
    """
    X, Y = _pair(X, Y)
    variance = _check_variance(variance)
    X_k = _leading_components("X", X, variance)
    Y_l = _leading_components("Y", Y, variance)
    _require_more_samples_than_units("X", *X_k.shape, what="kept principal components")
    _require_more_samples_than_units("Y", *Y_l.shape, what="kept principal components")
    return float(1.0 - _canonical_correlations(X_k, Y_l).mean())


def _unit_shape(name: str, X: np.ndarray) -> np.ndarray:
    """X̄ / ‖X̄‖_F."""
    centred = X - X.mean(axis=0)
    norm = np.linalg.norm(centred)
    if norm <= X.size * EPS * np.linalg.norm(X):
        raise ValueError(f"{name} has no variance: every column is constant")
    return centred / norm


def procrustes_distance(X, Y) -> float:
    """d_P(X, Y) = min_{Q orthogonal} ‖X̂ − Ŷ Q‖_F = √(2 − 2 ‖X̂ᵀŶ‖_*) (Williams et al. 2021).

    X̂ = X̄/‖X̄‖_F and Ŷ = Ȳ/‖Ȳ‖_F are centred and scaled to unit norm, the narrower one padded
    with zero columns to the common width p. The minimizer is Q = U Vᵀ from ŶᵀX̂ = U S Vᵀ
    (Schönemann 1966); the residual is formed with it rather than through the closed form,
    whose 2 − 2(1 − O(ε)) would leave ~1e-8 where the distance is 0. A metric in [0, √2],
    zero exactly when Y is a translated, rotated or reflected and rescaled copy of X.
    """
    X, Y = _pair(X, Y)
    X_hat, Y_hat = _unit_shape("X", X), _unit_shape("Y", Y)
    width = max(X_hat.shape[1], Y_hat.shape[1])
    X_hat = np.pad(X_hat, ((0, 0), (0, width - X_hat.shape[1])))
    Y_hat = np.pad(Y_hat, ((0, 0), (0, width - Y_hat.shape[1])))
    U, _, Vt = np.linalg.svd(Y_hat.T @ X_hat)
    return float(np.linalg.norm(X_hat - Y_hat @ (U @ Vt)))


def pairwise(representations: Sequence, metric: Callable[[np.ndarray, np.ndarray], float]) -> np.ndarray:
    """D_ij = metric(Rᵢ, Rⱼ) for representations R₀ … R_{N−1} on the same samples; (N, N) float64.

    Each unordered pair is computed once and mirrored, the diagonal is 0, so ``metric`` should
    be symmetric (:func:`cca_distance`, :func:`svcca_distance`, :func:`procrustes_distance`).
    """
    if not callable(metric):
        raise TypeError(f"metric must be callable, got {type(metric).__name__}")
    if isinstance(representations, np.ndarray):
        representations = list(representations)
    if not isinstance(representations, Sequence) or isinstance(representations, (str, bytes)):
        raise TypeError(f"representations must be a sequence of (samples, units) arrays, "
                        f"got {type(representations).__name__}")
    if len(representations) == 0:
        raise ValueError("representations must hold at least one array, got none")
    arrays = [_representation(f"representations[{i}]", r) for i, r in enumerate(representations)]
    samples = {a.shape[0] for a in arrays}
    if len(samples) > 1:
        raise ValueError(f"representations must all have the same number of samples (rows), "
                         f"got {sorted(samples)}")
    D = np.zeros((len(arrays), len(arrays)))
    pairs = list(combinations(range(len(arrays)), 2))
    for i, j in runtime.progress(pairs, desc="pairwise distances", total=len(pairs)):
        value = float(metric(arrays[i], arrays[j]))
        if not np.isfinite(value):
            raise ValueError(f"metric returned {value} for representations {i} and {j}")
        D[i, j] = D[j, i] = value
    return D


def _distance_matrix(D) -> np.ndarray:
    """D as a float64 square, symmetric, non-negative matrix with zero diagonal (to 1e-8 relative)."""
    D = np.asarray(D)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] == 0:
        raise ValueError(f"D must be a non-empty square (N, N) matrix, got shape {D.shape}")
    if D.dtype == bool or not np.issubdtype(D.dtype, np.number) or np.iscomplexobj(D):
        raise TypeError(f"D must be a real numeric array, got dtype {D.dtype}")
    D = D.astype(np.float64)
    if not np.all(np.isfinite(D)):
        raise ValueError("D has NaN or infinite values")
    tol = 1e-8 * np.abs(D).max()
    if np.abs(D - D.T).max() > tol:
        raise ValueError(f"D must be symmetric, but |D − Dᵀ| reaches {np.abs(D - D.T).max():.3g}")
    if np.abs(np.diag(D)).max() > tol or D.min() < -tol:
        raise ValueError("D must be a distance matrix: non-negative with a zero diagonal")
    return D


def _labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have one entry per item of D, shape ({n},), got {labels.shape}")
    return labels


def mds(D, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson 1952) multidimensional scaling: coordinates (N, n_components).

    B = −½ J D⁽²⁾ J with D⁽²⁾ the squared distances and J = I − 𝟙𝟙ᵀ/N; with B = V Λ Vᵀ, the
    coordinates are V_k Λ_k^{1/2} for the k largest eigenvalues (a non-positive one, where D
    is not Euclidean or has fewer dimensions, gives a column of zeros). Euclidean distances
    in k dimensions are recovered exactly up to rotation, reflection and translation. Each
    column's sign is fixed so that its entry of largest magnitude is positive.
    """
    D = _distance_matrix(D)
    n = D.shape[0]
    n_components = checks.integer("n_components", n_components)
    if n_components > n:
        raise ValueError(f"n_components must be at most the number of items ({n}), got {n_components}")
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (D**2) @ J
    eigenvalues, eigenvectors = np.linalg.eigh(0.5 * (B + B.T))
    order = np.argsort(eigenvalues)[::-1][:n_components]
    coordinates = eigenvectors[:, order] * np.sqrt(np.clip(eigenvalues[order], 0.0, None))
    largest = coordinates[np.argmax(np.abs(coordinates), axis=0), np.arange(n_components)]
    return coordinates * np.where(largest < 0, -1.0, 1.0)


def nearest_neighbour_accuracy(D, labels) -> float:
    """Fraction of items i whose nearest other item argmin_{j≠i} D_ij has the label of i
    (ties go to the lower index)."""
    D = _distance_matrix(D)
    labels = _labels(labels, D.shape[0])
    if D.shape[0] < 2:
        raise ValueError(f"D must have at least 2 items to have nearest neighbours, got {D.shape[0]}")
    nearest = np.argmin(D + np.diag(np.full(D.shape[0], np.inf)), axis=1)
    return float(np.mean(labels[nearest] == labels))


def within_between(D, labels) -> tuple[float, float]:
    """(mean D_ij over pairs i ≠ j with the same label, mean D_ij over pairs with different labels)."""
    D = _distance_matrix(D)
    labels = _labels(labels, D.shape[0])
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~np.eye(D.shape[0], dtype=bool)
    within, between = same & off_diagonal, ~same
    if not within.any():
        raise ValueError("labels must give some label to more than one item to have within-label pairs")
    if not between.any():
        raise ValueError("labels must hold at least two different labels to have between-label pairs")
    return float(D[within].mean()), float(D[between].mean())
