"""Unit tests for neurotheory.cnmf: the shift operators, each update against a plain NumPy
version of the same coordinate/block order, the NNLS solver, matching, and input checks."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import nnls

from neurotheory import cnmf

ZERO = cnmf.Penalty(jnp.float32(0.0), jnp.float32(0.0))


def numpy_reconstruct(W, H):
    L, N, K = W.shape
    T = H.shape[1]
    X_hat = np.zeros((N, T))
    for l in range(L):
        X_hat[:, l:] += W[l] @ H[:, :T - l]
    return X_hat


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    L, N, K, T = 3, 5, 2, 11
    W = rng.random((L, N, K)).astype(np.float32)
    H = (rng.random((K, T)) * (rng.random((K, T)) < 0.6)).astype(np.float32)
    X = (numpy_reconstruct(W, H) + 0.3 * rng.random((N, T))).astype(np.float32)
    W0 = rng.random((L, N, K)).astype(np.float32)
    H0 = rng.random((K, T)).astype(np.float32)
    return X, W0, H0


def test_shift_stack_and_its_adjoint():
    rng = np.random.default_rng(1)
    H = rng.random((2, 9)).astype(np.float32)
    Y = rng.random((4, 2, 9)).astype(np.float32)
    shifted = np.asarray(cnmf.shift_stack(jnp.asarray(H), 4))
    for l in range(4):
        expected = np.zeros_like(H)
        expected[:, l:] = H[:, :9 - l]
        np.testing.assert_array_equal(shifted[l], expected)
    # <S_l H, Y_l> summed over l equals <H, sum_l S_l^T Y_l>
    lhs = np.sum(shifted * Y)
    rhs = np.sum(H * np.asarray(cnmf.unshift_sum(jnp.asarray(Y))))
    assert lhs == pytest.approx(rhs, rel=1e-5)


def test_reconstruct_matches_numpy(tiny):
    _, W, H = tiny
    np.testing.assert_allclose(cnmf.reconstruct(W, H), numpy_reconstruct(W, H), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p", [4, 25])
def test_nnls_gram_matches_scipy(p):
    rng = np.random.default_rng(p)
    A = rng.random((60, p))
    b = rng.random(60) - 0.4
    expected, _ = nnls(A, b)
    x = cnmf.nnls_gram(jnp.asarray(A.T @ A, jnp.float32), jnp.asarray(A.T @ b, jnp.float32), jnp.zeros(p, bool))
    np.testing.assert_allclose(np.asarray(x), expected, atol=2e-4)


def test_hals_H_is_sequential_coordinate_descent(tiny):
    """One HALS H-sweep equals exact scalar updates in the order k, then p, then t = p, p+L, ..."""
    X, W, H = tiny
    L, N, K = W.shape
    T = H.shape[1]
    expected = H.astype(np.float64).copy()
    for k in range(K):
        for p in range(L):
            for t in range(p, T, L):
                lags = np.arange(min(L, T - t))
                residual = X - numpy_reconstruct(W, expected)
                grad = sum(W[l, :, k] @ residual[:, t + l] for l in lags)
                curvature = sum(W[l, :, k] @ W[l, :, k] for l in lags)
                expected[k, t] = max(0.0, expected[k, t] + grad / curvature)
    got = np.asarray(cnmf._hals_H(jnp.asarray(X), jnp.asarray(W), jnp.asarray(H), ZERO))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_anls_H_is_blockwise_exact(tiny):
    """One ANLS H-sweep equals an exact NNLS for each column t, in the order p, then t = p, p+L, ..."""
    X, W, H = tiny
    L, N, K = W.shape
    T = H.shape[1]
    expected = H.astype(np.float64).copy()
    for p in range(L):
        for t in range(p, T, L):
            lags = np.arange(min(L, T - t))
            without = expected.copy()
            without[:, t] = 0
            residual = X - numpy_reconstruct(W, without)
            design = np.concatenate([W[l] for l in lags])
            target = np.concatenate([residual[:, t + l] for l in lags])
            expected[:, t] = nnls(design, target)[0]
    got = np.asarray(cnmf._anls_H(jnp.asarray(X), jnp.asarray(W), jnp.asarray(H), ZERO))
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_anls_W_is_the_exact_nnls_solution(tiny):
    X, W, H = tiny
    L, N, K = W.shape
    stacked = np.concatenate([np.asarray(cnmf.shift_stack(jnp.asarray(H), L))[l] for l in range(L)])
    expected = np.stack([nnls(stacked.T, X[n])[0] for n in range(N)])       # (N, L K)
    got = np.asarray(cnmf._anls_W(jnp.asarray(X), jnp.asarray(W), jnp.asarray(H), ZERO))
    np.testing.assert_allclose(got.transpose(1, 0, 2).reshape(N, L * K), expected, rtol=1e-3, atol=1e-4)


def test_hals_W_is_sequential_coordinate_descent(tiny):
    X, W, H = tiny
    L, N, K = W.shape
    shifted = np.asarray(cnmf.shift_stack(jnp.asarray(H), L))
    expected = W.astype(np.float64).copy()
    for l in range(L):
        for k in range(K):
            residual = X - numpy_reconstruct(expected, H)
            h = shifted[l, k]
            expected[l, :, k] = np.maximum(0.0, expected[l, :, k] + residual @ h / (h @ h))
    got = np.asarray(cnmf._hals_W(jnp.asarray(X), jnp.asarray(W), jnp.asarray(H), ZERO))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_fit_result_shapes_and_trace():
    data = cnmf.synthetic_sequences(20, 2, 5, 120, seed=3)
    result = cnmf.fit(data.X, 2, 5, method="hals", max_iter=15, tol=0.0)
    assert result.W.shape == (5, 20, 2) and result.H.shape == (2, 120)
    assert result.loss.shape == result.time.shape == (15,)
    assert np.all(np.diff(result.time) > 0) and result.compile_time > 0
    assert result.loss[-1] < result.initial_loss
    assert np.all(result.W >= 0) and np.all(result.H >= 0)
    assert cnmf.relative_loss(data.X, result.W, result.H) == pytest.approx(result.loss[-1], rel=1e-3)
    np.testing.assert_allclose(result.reconstruct(), cnmf.reconstruct(result.W, result.H))


def test_fit_stops_at_tol():
    data = cnmf.synthetic_sequences(20, 2, 5, 120, seed=3)
    result = cnmf.fit(data.X, 2, 5, method="hals", max_iter=500, tol=1e-3)
    assert len(result.loss) < 500


@pytest.mark.parametrize("method", ["mu", "hals", "anls"])
def test_l1_penalty_makes_H_sparser(method):
    data = cnmf.synthetic_sequences(20, 2, 5, 120, seed=4)
    plain = cnmf.fit(data.X, 2, 5, method=method, max_iter=30, tol=0.0)
    sparse = cnmf.fit(data.X, 2, 5, method=method, max_iter=30, tol=0.0, l1_H=1.0, l2_W=0.1)
    assert np.sum(sparse.H > 1e-6) < np.sum(plain.H > 1e-6)


def test_motif_similarity_finds_permutation_and_shift():
    rng = np.random.default_rng(5)
    W = np.zeros((8, 6, 3))
    W[2:5] = rng.random((3, 6, 3))
    shuffled = np.roll(W, 2, axis=0)[:, :, [2, 0, 1]]
    match = cnmf.motif_similarity(W, shuffled)
    assert match.score == pytest.approx(1.0)
    np.testing.assert_array_equal(match.assignment, [1, 2, 0])
    np.testing.assert_array_equal(match.shift, [-2, -2, -2])
    assert cnmf.motif_similarity(W, rng.random((8, 6, 3))).score < 0.95


def test_motif_similarity_allows_other_rank():
    data = cnmf.synthetic_sequences(20, 3, 5, 100, seed=0)
    match = cnmf.motif_similarity(data.W, data.W[:, :, :2])
    assert match.score == pytest.approx(2 / 3)
    assert list(match.assignment).count(-1) == 1


def test_synthetic_sequences_without_noise_are_exact():
    data = cnmf.synthetic_sequences(30, 3, 10, 200, noise=0.0, seed=2)
    assert data.X.shape == (30, 200) and data.W.shape == (10, 30, 3) and data.H.shape == (3, 200)
    np.testing.assert_allclose(data.X, cnmf.reconstruct(data.W, data.H), rtol=1e-5, atol=1e-6)
    assert np.all(data.X >= 0)


@pytest.mark.parametrize("X, kwargs, error, match", [
    ([[1.0, -1.0, 2.0]], {}, ValueError, "nonnegative"),
    ([[1.0, np.nan, 2.0]], {}, ValueError, "NaN"),
    ([1.0, 2.0], {}, ValueError, "2-dimensional"),
    ("data", {}, TypeError, "X"),
    ([[0.0, 0.0, 0.0]], {}, ValueError, "all zeros"),
    ([[1.0, 2.0, 3.0]], {"n_lags": 3}, ValueError, "n_lags"),
    ([[1.0, 2.0, 3.0]], {"n_components": 0}, ValueError, "n_components"),
    ([[1.0, 2.0, 3.0]], {"n_components": 1.5}, TypeError, "n_components"),
    ([[1.0, 2.0, 3.0]], {"method": "adam"}, ValueError, "method"),
    ([[1.0, 2.0, 3.0]], {"l1_H": -1.0}, ValueError, "l1_H"),
    ([[1.0, 2.0, 3.0]], {"max_iter": 0}, ValueError, "max_iter"),
])
def test_fit_rejects_bad_input(X, kwargs, error, match):
    args = {"n_components": 1, "n_lags": 2, **kwargs}
    with pytest.raises(error, match=match):
        cnmf.fit(X, args.pop("n_components"), args.pop("n_lags"), **args)


def test_other_functions_reject_bad_input():
    with pytest.raises(ValueError, match="components"):
        cnmf.reconstruct(np.ones((2, 3, 2)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="neurons"):
        cnmf.motif_similarity(np.ones((2, 3, 2)), np.ones((2, 4, 2)))
    with pytest.raises(ValueError, match="n_lags"):
        cnmf.synthetic_sequences(10, 2, 50, 50)
    with pytest.raises(ValueError, match="event_rate"):
        cnmf.synthetic_sequences(10, 2, 5, 50, event_rate=0.0)
