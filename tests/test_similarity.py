"""Representational similarity on representations whose answers are known in closed form."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from neurotheory import similarity as sim


def gaussian(seed, shape):
    return np.random.default_rng(seed).normal(size=shape)


def orthogonal(seed, n):
    q, r = np.linalg.qr(gaussian(seed, (n, n)))
    return q * np.sign(np.diag(r))


def test_cca_of_an_invertible_linear_transform_is_all_ones():
    X = gaussian(0, (400, 6))
    A = gaussian(1, (6, 6)) + 3 * np.eye(6)  # invertible (cond ≈ 10)
    rho = sim.cca(X, X @ A - 7.0)
    assert rho.shape == (6,)
    np.testing.assert_allclose(rho, 1.0, atol=1e-8)
    assert abs(sim.cca_distance(X, X @ A - 7.0)) < 1e-8


def test_cca_of_independent_data_is_near_zero():
    # For p = q = 3 independent columns and n = 10 000 rows the largest canonical correlation
    # is ~2√(p/n) ≈ 0.035 (Wachter's edge); 0.06 is far above its seed-to-seed spread.
    rho = sim.cca(gaussian(2, (10_000, 3)), gaussian(3, (10_000, 3)))
    assert rho.shape == (3,)
    assert np.all(np.diff(rho) <= 0)
    assert rho.max() < 0.06
    assert sim.cca_distance(gaussian(2, (10_000, 3)), gaussian(3, (10_000, 3))) > 0.94


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_cca_recovers_a_known_canonical_correlation(sigma):
    """X = [a, b] A and Y = [a + σ c, d] B with a, b, c, d independent standard Gaussians and
    A, B invertible: the canonical pairs are (a, a + σc), with ρ₁ = 1/√(1 + σ²), and (b, d), with
    ρ₂ = 0. With n = 40 000 the standard error of ρ₁ is (1 − ρ₁²)/√n < 0.005."""
    n = 40_000
    a, b, c, d = gaussian(4, (4, n))
    X = np.c_[a, b] @ np.array([[2.0, 1.0], [0.5, -1.0]])
    Y = np.c_[a + sigma * c, d] @ np.array([[1.0, 0.3], [-2.0, 1.0]]) + 4.0
    rho = sim.cca(X, Y)
    assert rho[0] == pytest.approx(1 / np.sqrt(1 + sigma**2), abs=0.01)
    assert rho[1] < 0.02
    assert sim.cca(Y, X) == pytest.approx(rho, abs=1e-12)


def test_cca_ignores_duplicated_and_constant_columns():
    """[a, b, a, 5] spans only two centred directions: a naive basis of four columns would put
    Y's span inside it and report spurious correlations near 1."""
    a, b = gaussian(5, (2, 5000))
    X = np.c_[a, b, a, np.full(5000, 5.0)]
    rho = sim.cca(X, gaussian(6, (5000, 3)))
    assert rho.shape == (2,)
    assert rho.max() < 0.1
    np.testing.assert_allclose(sim.cca(X, np.c_[b, a]), 1.0, atol=1e-10)


def known_spectrum():
    """X and Y share four orthonormal centred directions with variances 50, 30, 15, 4 (per cent)
    and differ in a fifth of variance 1, which is orthogonal between them; each side is then
    rotated. Cumulative variance fractions: 0.50, 0.80, 0.95, 0.99, 1.00."""
    z = gaussian(7, (500, 6))
    z, _ = np.linalg.qr(z - z.mean(axis=0))
    scales = np.sqrt([50.0, 30.0, 15.0, 4.0, 1.0])
    X = (z[:, :5] * scales) @ orthogonal(8, 5)
    Y = (z[:, [0, 1, 2, 3, 5]] * scales) @ orthogonal(9, 5)
    return X, Y


@pytest.mark.parametrize("variance, kept", [(0.3, 1), (0.7, 2), (0.9, 3), (0.97, 4), (0.995, 5), (1.0, 5)])
def test_svcca_keeps_the_fewest_components_that_reach_the_variance(variance, kept):
    X, _ = known_spectrum()
    components = sim.principal_components(X, variance=variance)
    assert components.shape == (500, kept)
    kept_variance = np.sum(components**2) / np.sum((X - X.mean(axis=0)) ** 2)
    assert kept_variance == pytest.approx([0.5, 0.8, 0.95, 0.99, 1.0][kept - 1], abs=1e-12)


def test_svcca_distance_drops_the_direction_the_variance_cut_drops():
    X, Y = known_spectrum()
    # Four shared components are kept: identical subspaces.
    assert abs(sim.svcca_distance(X, Y, variance=0.97)) < 1e-10
    # All five are kept; the fifth pair is orthogonal, so ρ = (1, 1, 1, 1, 0).
    assert sim.svcca_distance(X, Y, variance=1.0) == pytest.approx(0.2, abs=1e-10)
    assert sim.cca_distance(X, Y) == pytest.approx(0.2, abs=1e-10)


def test_svcca_with_all_variance_is_cca_on_full_rank_data():
    X, Y = gaussian(10, (300, 4)), gaussian(11, (300, 7))
    Y[:, :2] += 0.7 * X[:, :2]
    assert sim.svcca_distance(X, Y, variance=1.0) == pytest.approx(sim.cca_distance(X, Y), abs=1e-12)
    assert sim.svcca_distance(X, Y, variance=0.5) != pytest.approx(sim.cca_distance(X, Y), abs=1e-3)


def test_procrustes_distance_is_zero_for_a_similar_copy_and_positive_for_a_shear():
    # Over many rotations: the closed form √(2 − 2‖X̂ᵀŶ‖_*) leaves up to ~3e-8 here in a third
    # of them, from round-off in 2 − 2(1 − O(ε)); the residual at the optimal Q does not.
    for seed in range(20):
        X = gaussian(100 + seed, (200, 5))
        assert sim.procrustes_distance(X, 3.7 * X @ orthogonal(200 + seed, 5) + 2.0) < 1e-10
    X = gaussian(12, (200, 5))
    reflection = np.diag([1.0, -1.0, 1.0, 1.0, -1.0])
    assert sim.procrustes_distance(X, 0.1 * X @ reflection - 5.0) < 1e-10
    shear = np.eye(5)
    shear[0, 1] = 0.8
    assert sim.procrustes_distance(X, X @ shear) > 0.1
    # CCA cannot see the shear: it is an invertible linear map.
    assert abs(sim.cca_distance(X, X @ shear)) < 1e-8


def test_procrustes_distance_matches_the_closed_form_and_is_a_metric():
    X, Y, Z = gaussian(14, (150, 4)), gaussian(15, (150, 6)), gaussian(16, (150, 3))

    def closed_form(A, B):
        A, B = A - A.mean(axis=0), B - B.mean(axis=0)
        A, B = A / np.linalg.norm(A), B / np.linalg.norm(B)
        return np.sqrt(2 - 2 * np.linalg.norm(A.T @ B, "nuc"))

    d_xy, d_yz, d_xz = sim.procrustes_distance(X, Y), sim.procrustes_distance(Y, Z), sim.procrustes_distance(X, Z)
    assert d_xy == pytest.approx(closed_form(X, Y), abs=1e-12)
    assert sim.procrustes_distance(Y, X) == pytest.approx(d_xy, abs=1e-12)
    assert 0 < d_xy <= np.sqrt(2)
    assert d_xz <= d_xy + d_yz


def test_procrustes_distance_is_invariant_to_zero_padding():
    X, Y = gaussian(17, (120, 3)), gaussian(18, (120, 5))
    d = sim.procrustes_distance(X, Y)
    assert sim.procrustes_distance(np.c_[X, np.zeros((120, 4))], Y) == pytest.approx(d, abs=1e-12)
    assert sim.procrustes_distance(X, np.c_[Y, np.zeros((120, 2))]) == pytest.approx(d, abs=1e-12)


@pytest.mark.parametrize("metric", [sim.procrustes_distance, sim.svcca_distance, sim.cca_distance])
def test_pairwise_is_symmetric_with_zero_diagonal_and_calls_each_pair_once(metric):
    reps = [gaussian(19 + i, (100, 3 + i)) for i in range(4)]
    reps.append(2 * reps[0] @ orthogonal(30, 3) + 1.0)
    calls = []

    def counted(X, Y):
        calls.append(1)
        return metric(X, Y)

    D = sim.pairwise(reps, counted)
    assert D.shape == (5, 5) and D.dtype == np.float64
    assert len(calls) == 10
    np.testing.assert_array_equal(D, D.T)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    for i in range(5):
        for j in range(i + 1, 5):
            assert D[i, j] == metric(reps[i], reps[j])
    assert D[0, 4] < 1e-8 and D[0, 1] > 0.1


def test_mds_recovers_a_planar_configuration():
    points = gaussian(31, (9, 2)) * [3.0, 1.0] + [10.0, -4.0]
    D = squareform(pdist(points))
    coordinates = sim.mds(D)
    assert coordinates.shape == (9, 2)
    np.testing.assert_allclose(pdist(coordinates), pdist(points), atol=1e-8)
    np.testing.assert_allclose(coordinates.mean(axis=0), 0.0, atol=1e-10)
    largest = coordinates[np.abs(coordinates).argmax(axis=0), [0, 1]]
    assert np.all(largest > 0)
    # Mirrored and shifted points give the same distances, hence the same coordinates.
    mirrored = squareform(pdist(points * [-1.0, 1.0] + 100.0))
    np.testing.assert_allclose(sim.mds(mirrored), coordinates, atol=1e-8)
    # A third dimension has nothing in it; the first axis carries the larger spread.
    three = sim.mds(D, n_components=3)
    np.testing.assert_allclose(three[:, 2], 0.0, atol=1e-6)
    assert np.var(three[:, 0]) > np.var(three[:, 1])


def two_clusters():
    """Items 0–2 labelled "a", 3–4 labelled "b"; item 2 sits 0.5 from item 3, closer than any
    of their own cluster, so items 2 and 3 have nearest neighbours of the other label."""
    D = np.full((5, 5), 3.0)
    for (i, j), d in {(0, 1): 1.0, (0, 2): 2.0, (1, 2): 1.5, (3, 4): 1.0, (2, 3): 0.5}.items():
        D[i, j] = D[j, i] = d
    np.fill_diagonal(D, 0.0)
    return D, ["a", "a", "a", "b", "b"]


def test_nearest_neighbour_accuracy_on_two_clusters():
    D, labels = two_clusters()
    assert sim.nearest_neighbour_accuracy(D, labels) == pytest.approx(3 / 5)
    assert sim.nearest_neighbour_accuracy(D, [0, 0, 0, 0, 0]) == 1.0
    D[2, 3] = D[3, 2] = 3.0
    assert sim.nearest_neighbour_accuracy(D, labels) == 1.0


def test_within_between_on_two_clusters():
    D, labels = two_clusters()
    within, between = sim.within_between(D, labels)
    assert within == pytest.approx((1.0 + 2.0 + 1.5 + 1.0) / 4)
    assert between == pytest.approx((5 * 3.0 + 0.5) / 6)


X_GOOD, Y_GOOD = gaussian(40, (50, 3)), gaussian(41, (50, 2))
D_GOOD, LABELS_GOOD = two_clusters()


def with_nan(X):
    X = X.copy()
    X[3, 1] = np.nan
    return X


def not_symmetric(D):
    D = D.copy()
    D[0, 1] += 1.0
    return D


@pytest.mark.parametrize("call, error, match", [
    (lambda: sim.cca(np.ones(50), Y_GOOD), ValueError, "X must be a 2-D array"),
    (lambda: sim.cca(X_GOOD, Y_GOOD[None]), ValueError, "Y must be a 2-D array"),
    (lambda: sim.cca(X_GOOD, Y_GOOD[:-1]), ValueError, "X and Y must have the same number of samples"),
    (lambda: sim.cca(with_nan(X_GOOD), Y_GOOD), ValueError, "X has NaN or infinite"),
    (lambda: sim.cca(X_GOOD, np.full((50, 2), np.inf)), ValueError, "Y has NaN or infinite"),
    (lambda: sim.cca(X_GOOD.astype(complex), Y_GOOD), TypeError, "X must be a real numeric array"),
    (lambda: sim.cca(gaussian(0, (5, 4)), gaussian(1, (5, 1))), ValueError,
     "CCA is undefined for X: it has 5 samples .* 4 units .* after centring"),
    (lambda: sim.cca_distance(gaussian(0, (5, 1)), gaussian(1, (5, 7))), ValueError,
     "CCA is undefined for Y.*after centring"),
    (lambda: sim.cca(np.ones((50, 3)), Y_GOOD), ValueError, "X has no variance"),
    (lambda: sim.svcca_distance(X_GOOD, Y_GOOD, variance=0.0), ValueError, "variance"),
    (lambda: sim.svcca_distance(X_GOOD, Y_GOOD, variance=1.5), ValueError, r"variance must be in \(0, 1\]"),
    (lambda: sim.svcca_distance(X_GOOD, Y_GOOD, variance="0.9"), TypeError, "variance must be a number"),
    (lambda: sim.svcca_distance(X_GOOD, Y_GOOD[:10]), ValueError, "same number of samples"),
    (lambda: sim.svcca_distance(gaussian(0, (10, 40)), Y_GOOD[:10], variance=1.0), ValueError,
     "CCA is undefined for X.*kept principal components"),
    (lambda: sim.principal_components(X_GOOD, variance=-0.1), ValueError, "variance"),
    (lambda: sim.procrustes_distance(X_GOOD, np.ones(50)), ValueError, "Y must be a 2-D array"),
    (lambda: sim.procrustes_distance(X_GOOD, Y_GOOD[:20]), ValueError, "same number of samples"),
    (lambda: sim.procrustes_distance(np.full((50, 2), 3.0), Y_GOOD), ValueError, "X has no variance"),
    (lambda: sim.procrustes_distance(with_nan(X_GOOD), Y_GOOD), ValueError, "X has NaN"),
    (lambda: sim.pairwise([X_GOOD, Y_GOOD], "svcca"), TypeError, "metric must be callable"),
    (lambda: sim.pairwise([], sim.cca_distance), ValueError, "representations must hold at least one"),
    (lambda: sim.pairwise(X_GOOD, sim.cca_distance), ValueError, r"representations\[0\] must be a 2-D"),
    (lambda: sim.pairwise(5, sim.cca_distance), TypeError, "representations must be a sequence"),
    (lambda: sim.pairwise([X_GOOD, Y_GOOD[:30]], sim.cca_distance), ValueError,
     "representations must all have the same number of samples"),
    (lambda: sim.pairwise([X_GOOD, np.ones(50)], sim.cca_distance), ValueError, r"representations\[1\]"),
    (lambda: sim.pairwise([X_GOOD, Y_GOOD], lambda a, b: np.nan), ValueError, "metric returned nan"),
    (lambda: sim.mds(np.ones((3, 4))), ValueError, "D must be a non-empty square"),
    (lambda: sim.mds(not_symmetric(D_GOOD)), ValueError, "D must be symmetric"),
    (lambda: sim.mds(D_GOOD + np.eye(5)), ValueError, "D must be a distance matrix"),
    (lambda: sim.mds(with_nan(D_GOOD)), ValueError, "D has NaN"),
    (lambda: sim.mds(D_GOOD, n_components=0), ValueError, "n_components must be at least 1"),
    (lambda: sim.mds(D_GOOD, n_components=6), ValueError, r"n_components must be at most the number of items \(5\)"),
    (lambda: sim.mds(D_GOOD, n_components=2.0), TypeError, "n_components must be an integer"),
    (lambda: sim.nearest_neighbour_accuracy(D_GOOD, LABELS_GOOD[:4]), ValueError, "labels must have one entry"),
    (lambda: sim.nearest_neighbour_accuracy(np.zeros((1, 1)), [0]), ValueError, "D must have at least 2 items"),
    (lambda: sim.nearest_neighbour_accuracy(not_symmetric(D_GOOD), LABELS_GOOD), ValueError, "D must be symmetric"),
    (lambda: sim.within_between(D_GOOD, LABELS_GOOD + ["c"]), ValueError, "labels must have one entry"),
    (lambda: sim.within_between(D_GOOD, [0, 1, 2, 3, 4]), ValueError, "labels .* within-label pairs"),
    (lambda: sim.within_between(D_GOOD, [0, 0, 0, 0, 0]), ValueError, "labels .* between-label pairs"),
])
def test_bad_input_is_refused_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
