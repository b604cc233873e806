"""Unit tests for neurotheory.tensor_amp: the denoiser against closed forms, state evolution's
closed forms and free entropy, thresholds and phases, AMP against its own p = 2 formula and
state evolution, damping, overlaps, sampling and input checks."""

import itertools
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from neurotheory import tensor_amp as ta


def joint(spec, rank):
    return ta._joint(ta.make_prior(spec), rank)


def test_denoise_gaussian_is_linear_shrinkage():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((5, 2)).astype(np.float32)
    A = np.array([[1.5, 0.3], [0.3, 0.7]], dtype=np.float32)
    mean, cov, _ = ta.denoise(jnp.asarray(B), jnp.asarray(A), joint(("gaussian", 0.4), 2))
    precision = np.eye(2) + A
    np.testing.assert_allclose(mean, np.linalg.solve(precision, (B + 0.4).T).T, atol=1e-5)
    np.testing.assert_allclose(cov[0], np.linalg.inv(precision), atol=1e-5)


def test_denoise_rademacher_enumerates_the_corners():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((4, 2))
    A = np.array([[1.0, 0.4], [0.4, 2.0]])
    mean, cov, log_z = ta.denoise(jnp.asarray(B), jnp.asarray(A), joint("rademacher", 2))
    corners = np.array(list(itertools.product([-1.0, 1.0], repeat=2)))
    energy = B @ corners.T - 0.5 * np.einsum("cr,rs,cs->c", corners, A, corners)
    weights = np.exp(energy) / 4
    expected = weights @ corners / weights.sum(1, keepdims=True)
    np.testing.assert_allclose(mean, expected, atol=1e-6)
    np.testing.assert_allclose(log_z, np.log(weights.sum(1)), atol=1e-6)
    np.testing.assert_allclose(np.diagonal(cov, axis1=1, axis2=2), 1 - expected ** 2, atol=1e-6)


@pytest.mark.parametrize("b", [-2.0, 0.3, 3.0])
def test_denoise_sparse_matches_numerical_integration(b):
    rho, a = 0.2, 1.3
    mean, cov, log_z = ta.denoise(jnp.asarray([[b]]), jnp.asarray([[a]]), joint(("sparse", rho), 1))
    density = lambda x, k: x ** k * np.exp(b * x - a * x * x / 2) * np.exp(
        -x * x * rho / 2) * np.sqrt(rho / (2 * np.pi))
    slab = [rho * integrate.quad(density, -np.inf, np.inf, args=(k,))[0] for k in range(3)]
    z = (1 - rho) + slab[0]
    assert float(mean[0, 0]) == pytest.approx(slab[1] / z, rel=1e-6, abs=1e-9)
    assert float(cov[0, 0, 0]) == pytest.approx(slab[2] / z - (slab[1] / z) ** 2, rel=1e-6)
    assert float(log_z[0]) == pytest.approx(np.log(z), rel=1e-6)


@pytest.mark.parametrize("mu", [0.0, 0.5, 1.0])
def test_state_evolution_gaussian_closed_form(mu):
    snr, m0 = 1.7, np.array([0.3, 0.6])
    m = ta.state_evolution(snr=snr, shape=(1, 1), prior=("gaussian", mu), n_iter=1, m0=m0,
                           update="parallel")[1]
    A = snr * m0[::-1]
    np.testing.assert_allclose(m, (A * (1 + mu ** 2) + mu ** 2) / (1 + A), rtol=1e-10)


def test_state_evolution_rademacher_is_expected_tanh():
    m = ta.state_evolution(snr=1.5, shape=(1, 1), prior="rademacher", n_iter=1, m0=0.4,
                           update="parallel")[1, 0]
    A = 1.5 * 0.4
    z, w = np.polynomial.hermite_e.hermegauss(120)
    assert m == pytest.approx(np.sum(w * np.tanh(A + np.sqrt(A) * z)) / np.sqrt(2 * np.pi),
                              rel=1e-9)


def test_sequential_state_evolution_uses_the_updated_modes():
    m = ta.state_evolution(snr=2.0, shape=(1, 1), prior="gaussian", n_iter=1, m0=0.5)[1]
    first = 2.0 * 0.5 / (1 + 2.0 * 0.5)
    assert m[0] == pytest.approx(first)
    assert m[1] == pytest.approx(2.0 * first / (1 + 2.0 * first))


def test_sequential_and_parallel_share_fixed_points():
    kw = dict(snr=3.0, shape=(2, 1, 0.5), prior=("gaussian", 0.5), n_iter=400, m0=1.0)
    np.testing.assert_allclose(ta.state_evolution(**kw)[-1],
                               ta.state_evolution(**kw, update="parallel")[-1], atol=1e-8)


def test_free_entropy_is_stationary_at_fixed_points():
    kw = dict(snr=4.0, shape=(2.0, 1.0, 0.5), prior="rademacher")
    m = ta.state_evolution(**kw, n_iter=500, m0=1.0)[-1]
    assert np.all(m > 0.5)
    eps = 1e-5
    for a in range(3):
        step = np.eye(3)[a] * eps
        slope = (ta.free_entropy(m + step, **kw) - ta.free_entropy(m - step, **kw)) / (2 * eps)
        assert abs(slope) < 1e-6
    assert float(ta.free_entropy(np.zeros(3), **kw)) == pytest.approx(0.0, abs=1e-12)


def test_detectability_thresholds():
    for prior in ("gaussian", "rademacher", ("sparse", 0.3)):
        for shape in ((100, 100), (50, 400)):
            assert ta.detectability_threshold(shape, prior=prior) == pytest.approx(1.0)
    assert ta.detectability_threshold((10, 10, 10), prior="gaussian") == np.inf
    assert ta.detectability_threshold((10, 10, 10), prior=("gaussian", 0.1)) == 0.0
    assert ta.detectability_threshold((10, 20), prior=("gaussian", 0.1)) == 0.0
    mixed = [("gaussian", 0.5), "gaussian", "rademacher"]
    n = np.array([4.0, 1.0, 0.25])        # geometric mean 1
    expected = 1 / (0.5 ** 2 * n[0] * np.sqrt(n[1] * n[2]))
    assert ta.detectability_threshold(tuple(n), prior=mixed) == pytest.approx(expected)


def test_phases():
    assert ta.phase(snr=0.5, shape=(1, 1), prior="gaussian") == "impossible"
    assert ta.phase(snr=2.0, shape=(1, 2), prior="gaussian") == "easy"
    assert ta.phase(snr=0.9, shape=(1, 1), prior=("sparse", 0.1)) == "hard"
    assert list(ta.phase(snr=[1.0, 20.0], shape=(1, 1, 1), prior="rademacher")) == [
        "impossible", "hard"]
    assert ta.phase(snr=30.0, shape=(1, 1, 1), prior=("gaussian", 1.0)) == "easy"


def test_one_sweep_is_the_order_two_formula():
    shape, snr = (30, 70), 2.0
    T, _ = ta.sample(shape, rank=1, snr=snr, prior="gaussian", seed=3)
    start = [0.1 * np.random.default_rng(0).standard_normal((n, 1)) for n in shape]
    lam = ta.coupling(snr, shape)
    T = np.asarray(T, dtype=np.float64)
    u, v = start
    A_u = lam ** 2 * (v.T @ v).item()
    u1 = lam * T @ v / (1 + A_u)
    A_v = lam ** 2 * (u1.T @ u1).item()
    v1 = (lam * T.T @ u1 - lam ** 2 * shape[0] / (1 + A_u) * v) / (1 + A_v)
    result = ta.amp(T, snr=snr, rank=1, prior="gaussian", max_iter=1, init=start)
    np.testing.assert_allclose(result.factors[0], u1, atol=2e-5)
    np.testing.assert_allclose(result.factors[1], v1, atol=2e-5)
    assert result.n_iter == 1


def test_amp_follows_state_evolution_and_nishimori():
    T, truth = ta.sample((800, 800), rank=1, snr=3.0, prior="rademacher", seed=0)
    result = ta.amp(T, snr=3.0, rank=1, prior="rademacher", max_iter=200, truth=truth)
    se = ta.state_evolution(snr=3.0, shape=(1, 1), prior="rademacher", n_iter=200, m0=0.01)
    assert result.converged
    assert result.overlaps.shape == (result.n_iter + 1, 2)
    np.testing.assert_allclose(result.overlaps[-1], se[-1], atol=0.05)
    np.testing.assert_allclose(result.self_overlaps[-1], result.overlaps[-1], atol=0.05)


def test_damping_does_not_move_the_fixed_point():
    T, truth = ta.sample((60, 60, 60), rank=1, snr=2.0, prior=("gaussian", 1.0), seed=1)
    kw = dict(snr=2.0, rank=1, prior=("gaussian", 1.0), max_iter=400, tol=1e-6)
    plain, damped = ta.amp(T, **kw), ta.amp(T, damping=0.6, **kw)
    assert plain.converged and damped.converged
    assert damped.n_iter > plain.n_iter
    for a, b in zip(plain.factors, damped.factors):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_rank_two_overlaps_are_matched_by_one_permutation():
    rng = np.random.default_rng(0)
    truth = [rng.choice([-1.0, 1.0], size=(50, 2)) for _ in range(3)]
    swapped = [-x[:, ::-1] for x in truth]
    np.testing.assert_allclose(ta.overlaps(swapped, truth), np.ones((3, 2)))
    noisy = [x + 0.5 * rng.standard_normal(x.shape) for x in truth]
    cos = ta.overlaps(noisy, truth, cosine=True)
    assert cos.shape == (3, 2) and np.all((cos > 0.7) & (cos < 1))


def test_rank_two_amp_records_matched_overlaps():
    T, truth = ta.sample((40, 40, 40), rank=2, snr=20.0, prior="rademacher", seed=2)
    init = ta.informed_start(truth, prior="rademacher", strength=1.0, seed=0)
    result = ta.amp(T, snr=20.0, rank=2, prior="rademacher", max_iter=50, truth=truth, init=init)
    assert result.overlaps.shape == (result.n_iter + 1, 3, 2)
    assert np.all(result.overlaps[-1] > 0.95)


def test_sample_statistics():
    T, factors = ta.sample((30, 40, 50), rank=2, snr=4.0, prior=("sparse", 0.25), seed=0)
    assert T.shape == (30, 40, 50) and [f.shape for f in factors] == [(30, 2), (40, 2), (50, 2)]
    _, many = ta.sample((4000, 3), rank=2, snr=1.0, prior=("sparse", 0.25), seed=1)
    entries = np.ravel(many[0])
    assert np.mean(entries == 0) == pytest.approx(0.75, abs=0.03)
    assert np.mean(entries ** 2) == pytest.approx(1.0, abs=0.2)    # unit variance
    lam = ta.coupling(4.0, (30, 40, 50))
    noise = np.asarray(T) - lam * np.einsum("ir,jr,kr->ijk", *map(np.asarray, factors))
    assert noise.std() == pytest.approx(1.0, abs=0.02)


def test_informed_start_is_bayes_consistent():
    truth = [np.random.default_rng(0).choice([-1.0, 1.0], size=(20000, 1))]
    start = ta.informed_start(truth, prior="rademacher", strength=1.0, seed=0)
    m, q = ta.overlaps(start, truth)[0], float(np.mean(np.asarray(start[0]) ** 2))
    z, w = np.polynomial.hermite_e.hermegauss(120)
    assert m == pytest.approx(np.sum(w * np.tanh(1 + z)) / np.sqrt(2 * np.pi), abs=0.01)
    assert q == pytest.approx(m, abs=0.01)


def test_als_recovers_a_strong_signal():
    pytest.importorskip("tensorly")
    T, truth = ta.sample((30, 30, 30), rank=1, snr=50.0, prior="gaussian", seed=0)
    fit = ta.als(T, snr=50.0, rank=1)
    assert np.all(ta.overlaps(fit, truth, cosine=True) > 0.95)
    assert np.all(ta.overlaps(fit, truth) > 0.8)        # on the signal's scale


def test_library_imports_without_tensorly():
    code = ("import sys; sys.modules['tensorly'] = None; "
            "from neurotheory import tensor_amp; print(tensor_amp.PRIORS)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("call, message", [
    (lambda: ta.sample((5, 5), rank=1, snr=-1.0, prior="gaussian", seed=0), "snr"),
    (lambda: ta.sample((5, 5), rank=0, snr=1.0, prior="gaussian", seed=0), "rank"),
    (lambda: ta.sample((5,), rank=1, snr=1.0, prior="gaussian", seed=0), "2 modes"),
    (lambda: ta.sample((5, 5), rank=1, snr=1.0, prior="laplace", seed=0), "prior"),
    (lambda: ta.sample((5, 5), rank=1, snr=1.0, prior=("sparse", 1.5), seed=0), "rho"),
    (lambda: ta.amp(np.ones(5), snr=1.0, rank=1, prior="gaussian", max_iter=5), "T"),
    (lambda: ta.amp(np.full((3, 3), np.nan), snr=1.0, rank=1, prior="gaussian", max_iter=5),
     "NaN"),
    (lambda: ta.amp(np.ones((3, 3)), snr=-1.0, rank=1, prior="gaussian", max_iter=5), "snr"),
    (lambda: ta.amp(np.ones((3, 3)), snr=1.0, rank=0, prior="gaussian", max_iter=5), "rank"),
    (lambda: ta.amp(np.ones((3, 3)), snr=1.0, rank=1, prior="beta", max_iter=5), "prior"),
    (lambda: ta.amp(np.ones((3, 3)), snr=1.0, rank=1, prior="gaussian", max_iter=5,
                    damping=1.0), "damping"),
    (lambda: ta.amp(np.ones((3, 3)), snr=1.0, rank=1, prior="gaussian", max_iter=5,
                    init=[np.ones((3, 1))]), "init"),
    (lambda: ta.state_evolution(snr=-1.0, shape=(1, 1), prior="gaussian", n_iter=3, m0=0.1),
     "snr"),
    (lambda: ta.state_evolution(snr=1.0, shape=(1,), prior="gaussian", n_iter=3, m0=0.1),
     "2 modes"),
    (lambda: ta.state_evolution(snr=1.0, shape=(1, 1), prior="gaussian", n_iter=3, m0=0.1,
                                update="random"), "update"),
    (lambda: ta.state_evolution(snr=1.0, shape=(1, 1), prior=["gaussian"] * 3, n_iter=3,
                                m0=0.1), "prior"),
    (lambda: ta.phase(snr=-1.0, shape=(1, 1), prior="gaussian"), "snr"),
    (lambda: ta.detectability_threshold((1,), prior="gaussian"), "2 modes"),
    (lambda: ta.free_entropy([0.1, 0.2, 0.3], snr=1.0, shape=(1, 1), prior="gaussian"), "m"),
])
def test_bad_inputs_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
