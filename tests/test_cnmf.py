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


# ----------------------------------------------------------------------------------------------
# MU against its formula; the penalized updates against a generic optimizer (scipy)
# ----------------------------------------------------------------------------------------------

PENALTIES = dict(l1_W=0.3, l2_W=0.5, l1_H=0.2, l2_H=0.4)


def penalty(l1, l2):
    return cnmf.Penalty(jnp.float32(l1), jnp.float32(l2))


def penalized_objective(X, W, H, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0):
    """½‖X − X̂‖² + l1_W ΣW + ½ l2_W ΣW² + l1_H ΣH + ½ l2_H ΣH², in float64."""
    R = X - numpy_reconstruct(W, H)
    return (0.5 * np.sum(R ** 2) + l1_W * W.sum() + 0.5 * l2_W * np.sum(W ** 2)
            + l1_H * H.sum() + 0.5 * l2_H * np.sum(H ** 2))


def penalized_gradients(X, W, H, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0):
    """∂/∂W and ∂/∂H of :func:`penalized_objective`, written out with explicit shifts."""
    L, T = W.shape[0], H.shape[1]
    R = X - numpy_reconstruct(W, H)
    grad_W = np.stack([-R[:, l:] @ H[:, :T - l].T for l in range(L)]) + l1_W + l2_W * W
    grad_H = -sum(np.pad(W[l].T @ R[:, l:], ((0, 0), (0, l))) for l in range(L)) + l1_H + l2_H * H
    return grad_W, grad_H


def scipy_argmin(objective, x0, gradient=None):
    """min objective(x) over x ≥ 0 by L-BFGS-B (numerical gradients unless given), tightly converged."""
    from scipy.optimize import minimize

    result = minimize(objective, x0, jac=gradient, method="L-BFGS-B", bounds=[(0, None)] * x0.size,
                      options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000, maxfun=10 ** 6))
    return result.x


@pytest.mark.parametrize("penalized", [False, True])
def test_mu_step_is_its_formula(tiny, penalized):
    """W_l ← W_l ⊙ (X(S_l H)ᵀ + ε)/(X̂(S_l H)ᵀ + l1 + l2 W_l + ε), then H likewise with the new W."""
    X, W, H = (a.astype(np.float64) for a in tiny)
    p = PENALTIES if penalized else dict.fromkeys(PENALTIES, 0.0)
    L, T = W.shape[0], H.shape[1]
    eps = cnmf.EPS
    shifted = [np.pad(H, ((0, 0), (l, 0)))[:, :T] for l in range(L)]
    X_hat = numpy_reconstruct(W, H)
    W_new = np.stack([W[l] * (X @ shifted[l].T + eps) / (X_hat @ shifted[l].T + p["l1_W"] + p["l2_W"] * W[l] + eps)
                      for l in range(L)])
    X_hat = numpy_reconstruct(W_new, H)
    back = lambda Y: sum(W_new[l].T @ np.pad(Y[:, l:], ((0, 0), (0, l))) for l in range(L))   # Σ_l W_lᵀ S_lᵀ Y
    H_new = H * (back(X) + eps) / (back(X_hat) + p["l1_H"] + p["l2_H"] * H + eps)
    got_W, got_H, loss = cnmf.mu_step(jnp.asarray(tiny[0]), jnp.asarray(tiny[1]), jnp.asarray(tiny[2]),
                                      penalty(p["l1_W"], p["l2_W"]), penalty(p["l1_H"], p["l2_H"]))
    np.testing.assert_allclose(np.asarray(got_W), W_new, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(got_H), H_new, rtol=2e-5, atol=1e-6)
    assert float(loss) == pytest.approx(0.5 * np.sum((X - numpy_reconstruct(W_new, H_new)) ** 2), rel=1e-4)


def test_penalized_anls_W_is_the_scipy_minimizer(tiny):
    X, W, H = (a.astype(np.float64) for a in tiny)
    p = PENALTIES
    expected = scipy_argmin(lambda w: penalized_objective(X, w.reshape(W.shape), H, p["l1_W"], p["l2_W"]), W.ravel(),
                            lambda w: penalized_gradients(X, w.reshape(W.shape), H, p["l1_W"], p["l2_W"])[0].ravel())
    expected = expected.reshape(W.shape)
    got = np.asarray(cnmf._anls_W(*(jnp.asarray(a) for a in tiny), penalty(p["l1_W"], p["l2_W"])))
    np.testing.assert_allclose(got, expected, atol=2e-4)


def test_penalized_hals_W_minimizes_each_column_in_turn(tiny):
    """Column order c = l K + k; each column of W_l is the scipy argmin with the others fixed."""
    X, W, H = (a.astype(np.float64) for a in tiny)
    p = PENALTIES
    L, N, K = W.shape
    expected = W.copy()
    for l in range(L):
        for k in range(K):
            def objective(column):
                trial = expected.copy()
                trial[l, :, k] = column
                return penalized_objective(X, trial, H, p["l1_W"], p["l2_W"])
            expected[l, :, k] = scipy_argmin(objective, expected[l, :, k])
    got = np.asarray(cnmf._hals_W(*(jnp.asarray(a) for a in tiny), penalty(p["l1_W"], p["l2_W"])))
    np.testing.assert_allclose(got, expected, atol=2e-4)


@pytest.mark.parametrize("method", ["hals", "anls"])
def test_penalized_H_sweeps_minimize_each_block_in_turn(tiny, method):
    """HALS: each scalar H[k, t] in the order k, p, t = p, p+L, …; ANLS: each column t in the order p, t.
    Every block is the scipy argmin of the penalized objective with the rest of H fixed."""
    X, W, H = (a.astype(np.float64) for a in tiny)
    p = PENALTIES
    L, K, T = W.shape[0], H.shape[0], H.shape[1]
    expected = H.copy()
    if method == "hals":
        blocks = [(k, t) for k in range(K) for q in range(L) for t in range(q, T, L)]
    else:
        blocks = [(slice(None), t) for q in range(L) for t in range(q, T, L)]
    for index in blocks:
        def objective(values):
            trial = expected.copy()
            trial[index] = values.reshape(np.shape(trial[index]))
            return penalized_objective(X, W, trial, l1_H=p["l1_H"], l2_H=p["l2_H"])
        expected[index] = scipy_argmin(objective, np.atleast_1d(expected[index])).reshape(np.shape(expected[index]))
    update = cnmf._hals_H if method == "hals" else cnmf._anls_H
    got = np.asarray(update(*(jnp.asarray(a) for a in tiny), penalty(p["l1_H"], p["l2_H"])))
    np.testing.assert_allclose(got, expected, atol=2e-4)


@pytest.mark.parametrize("method, iterations", [("mu", 1000), ("hals", 200), ("anls", 100)])
def test_penalized_fit_ends_at_a_stationary_point(tiny, method, iterations):
    """At convergence W minimizes the penalized objective given H and H given W (each subproblem is
    convex), as a generic optimizer confirms; the penalized objective never went up on the way."""
    X = tiny[0].astype(np.float64)
    p = PENALTIES
    result = cnmf.fit(tiny[0], 2, 3, method=method, max_iter=iterations, tol=0.0, seed=1, **p)
    W, H = result.W.astype(np.float64), result.H.astype(np.float64)
    at_fit = penalized_objective(X, W, H, **p)
    best_W = scipy_argmin(lambda w: penalized_objective(X, w.reshape(W.shape), H, **p), W.ravel() + 0.1,
                          lambda w: penalized_gradients(X, w.reshape(W.shape), H, **p)[0].ravel())
    best_H = scipy_argmin(lambda h: penalized_objective(X, W, h.reshape(H.shape), **p), H.ravel() + 0.1,
                          lambda h: penalized_gradients(X, W, h.reshape(H.shape), **p)[1].ravel())
    assert at_fit - penalized_objective(X, best_W.reshape(W.shape), H, **p) < 1e-4 * at_fit
    assert at_fit - penalized_objective(X, W, best_H.reshape(H.shape), **p) < 1e-4 * at_fit
    # the fit started far from this point: the test is not passed by standing still
    W0, H0 = (np.asarray(a, np.float64) for a in cnmf.initialize(tiny[0], 2, 3, seed=1))
    assert penalized_objective(X, W0, H0, **p) > 1.2 * at_fit


def test_ordered_sequences_fire_in_order():
    data = cnmf.ordered_sequences(30, 2, 5, 9, 200, event_rate=0.05, noise=0.0, seed=0)
    assert data.X.shape == (30, 200) and data.W.shape == (9, 30, 2)
    np.testing.assert_allclose(data.X, cnmf.reconstruct(data.W, data.H), rtol=1e-5, atol=1e-6)
    for k in range(2):
        members = np.flatnonzero(data.W[:, :, k].sum(0))
        np.testing.assert_array_equal(members, np.arange(5 * k, 5 * k + 5))
        firing_lag = data.W[:, members, k].argmax(0)
        assert firing_lag[0] == 0 and firing_lag[-1] == 8 and np.all(np.diff(firing_lag) > 0)
    assert data.W[:, 10:].sum() == 0
    with pytest.raises(ValueError, match="n_members"):
        cnmf.ordered_sequences(10, 3, 4)
    with pytest.raises(ValueError, match="event_rate"):
        cnmf.ordered_sequences(event_rate=1.5)


def test_seqnmf_reference_descends_from_our_start():
    """seqNMF's MU from our starting factors: one loss per iteration, in our units, never increasing.
    (Its trajectory is not ours step for step, so only the units are compared: both start from the same loss.)"""
    pytest.importorskip("seqnmf")
    data = cnmf.synthetic_sequences(20, 2, 5, 150, seed=3)
    W0, H0 = cnmf.initialize(data.X, 2, 5, seed=0)
    loss, seconds = cnmf.seqnmf_fit(data.X, W0, H0, 30)
    ours = cnmf.fit(data.X, 2, 5, method="mu", max_iter=1, tol=0.0, seed=0)
    assert loss.shape == seconds.shape == (30,) and np.all(np.diff(seconds) > 0)
    assert np.all(np.diff(loss) <= 1e-6) and loss[-1] < 0.8 * ours.initial_loss
    assert loss[0] == pytest.approx(ours.loss[0], rel=0.2)
    with pytest.raises(ValueError, match="do not fit"):
        cnmf.seqnmf_fit(data.X, W0, H0[:, :100], 5)
