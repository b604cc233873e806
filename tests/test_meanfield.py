"""Mean-field signal propagation: closed forms, fixed points, the critical line and its errors."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import meanfield as mf


def test_chi_relu_critical_point_is_one():
    assert mf.chi("relu", np.sqrt(2.0), 0.0) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("phi", ["tanh", "hard_tanh", "erf", "relu", "linear"])
def test_critical_line_has_chi_one_and_the_asked_fixed_point(phi):
    q = np.array([0.02, 0.1, 0.5, 1.0, 2.0])
    sigma_w, sigma_b = mf.critical_line(phi, q)
    np.testing.assert_allclose(mf.chi(phi, sigma_w, sigma_b, q0=1.0), 1.0, atol=1e-6)
    # Every q is fixed at the ReLU and linear critical points; hard-tanh's length map is
    # nearly the identity for q* ≲ 0.05 (it is linear there), so its fixed point is ill-conditioned.
    keep = q >= (0.1 if phi == "hard_tanh" else 0.0)
    if phi not in ("relu", "linear"):
        np.testing.assert_allclose(mf.q_star(phi, sigma_w[keep], sigma_b[keep]), q[keep], rtol=1e-6)


def test_relu_critical_line_is_a_single_point():
    sigma_w, sigma_b = mf.critical_line("relu", [0.1, 1.0, 3.0])
    np.testing.assert_allclose(sigma_w, np.sqrt(2.0))
    np.testing.assert_allclose(sigma_b, 0.0)


@pytest.mark.parametrize("phi", ["hard_tanh", "erf", "relu"])
def test_closed_forms_match_numerical_integration(phi):
    from scipy.integrate import quad
    from scipy.special import erf

    f = {"hard_tanh": lambda h: np.clip(h, -1, 1), "erf": erf, "relu": lambda h: max(h, 0.0)}[phi]
    for q in (0.05, 0.7, 3.0):
        exact, _ = quad(lambda z: f(np.sqrt(q) * z) ** 2 * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -12, 12,
                        points=[-1 / np.sqrt(q), 0.0, 1 / np.sqrt(q)], limit=200)
        assert mf.mean_square(phi, q) == pytest.approx(exact, rel=1e-8)


def test_quadrature_of_a_callable_matches_the_named_smooth_nonlinearity():
    assert mf.mean_square(lambda h: jnp.tanh(h), 0.7) == pytest.approx(float(mf.mean_square("tanh", 0.7)), rel=1e-10)
    assert mf.chi(lambda h: jnp.tanh(h), 1.3, 0.2) == pytest.approx(float(mf.chi("tanh", 1.3, 0.2)), rel=1e-8)


def test_derivative_moments_closed_forms():
    q = 0.3
    p = float(mf.derivative_moment("hard_tanh", q))
    from scipy.special import erf

    assert p == pytest.approx(erf(1 / np.sqrt(2 * q)), rel=1e-12)
    assert mf.derivative_moment("hard_tanh", q, 3) == pytest.approx(p, rel=1e-12)
    assert mf.derivative_moment("erf", q) == pytest.approx(4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-8)


def test_q_star_is_the_limit_of_iterating_the_length_map():
    sw, sb = np.array([1.5, 0.8, 2.5]), np.array([0.3, 0.5, 0.1])
    q = np.ones(3)
    for _ in range(300):
        q = mf.length_map("tanh", q, sw, sb)
    np.testing.assert_allclose(mf.q_star("tanh", sw, sb), q, rtol=1e-6)


def test_correlation_map_fixes_one_with_slope_chi():
    sw, sb = 1.3, 0.2
    assert mf.correlation_map("tanh", 1.0, sw, sb) == pytest.approx(1.0, abs=1e-6)
    eps = 1e-4
    slope = (1.0 - float(mf.correlation_map("tanh", 1.0 - eps, sw, sb))) / eps
    assert slope == pytest.approx(float(mf.chi("tanh", sw, sb)), rel=1e-2)


def test_depth_scale_diverges_at_criticality():
    sigma_w, sigma_b = mf.critical_line("tanh", [0.5])
    _, xi_critical = mf.depth_scales("tanh", float(sigma_w[0]), float(sigma_b[0]))
    _, xi_ordered = mf.depth_scales("tanh", 0.9 * float(sigma_w[0]), float(sigma_b[0]))
    _, xi_chaotic = mf.depth_scales("tanh", 1.3 * float(sigma_w[0]), float(sigma_b[0]))
    assert xi_critical == np.inf
    assert 1 < xi_ordered < 100 and 1 < xi_chaotic < 100


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="phi"):
        mf.q_star("softsign", 1.0, 0.0)
    with pytest.raises(TypeError, match="phi"):
        mf.chi(3, 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_w"):
        mf.q_star("tanh", -1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_b"):
        mf.chi("tanh", 1.0, np.nan)
    with pytest.raises(ValueError, match="q_stars"):
        mf.critical_line("tanh", [0.0])
    with pytest.raises(ValueError, match="q\\*"):
        mf.q_star("relu", 2.0, 0.5)
    with pytest.raises(ValueError, match="k"):
        mf.derivative_moment("tanh", 1.0, 0)
    with pytest.raises(ValueError, match="c"):
        mf.correlation_map("tanh", 1.5, 1.0, 0.1)
    with pytest.raises(ValueError, match="weights"):
        mf.DeepNetwork("tanh", 3, 8, 4, 2, 1.0, 0.0, "uniform", rngs=nnx.Rngs(0))


def test_deep_network_initialisation_follows_the_weight_law():
    model = mf.DeepNetwork("tanh", 4, 64, 100, 3, 1.2, 0.1, "orthogonal", rngs=nnx.Rngs(0))
    w = np.asarray(model.w_hidden[...])
    assert w.shape == (3, 64, 64)
    for layer in w:
        np.testing.assert_allclose(layer @ layer.T, 1.44 * np.eye(64), atol=1e-4)
    assert model(jnp.ones((5, 100))).shape == (5, 3)
    gaussian = mf.DeepNetwork("tanh", 4, 256, 100, 3, 1.2, 0.1, "gaussian", rngs=nnx.Rngs(0))
    assert np.var(np.asarray(gaussian.w_hidden[...])) * 256 == pytest.approx(1.44, rel=0.02)


def test_fixed_point_inputs_put_the_first_layer_at_q_star():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 8, 8, 3))
    sigma_w, sigma_b = (float(a) for a in mf.critical_line("tanh", 0.3))
    x = mf.fixed_point_inputs(images, "tanh", sigma_w, sigma_b)
    assert sigma_w ** 2 * np.mean(x ** 2) + sigma_b ** 2 == pytest.approx(0.3, rel=1e-5)


def test_training_curve_decreases_and_steps_to_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 20)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = mf.DeepNetwork("tanh", 3, 32, 20, 2, 1.0, 0.05, "orthogonal", rngs=nnx.Rngs(0))
    losses = mf.training_curve(model, x, y, steps=200, batch_size=32, learning_rate=0.05)
    assert losses.shape == (200,)
    assert losses[-20:].mean() < 0.5 * losses[:5].mean()
    assert mf.steps_to_loss([3, 2, 1, 0.5, 0.2, 0.1], 0.6, window=2) == 4
    assert mf.steps_to_loss([3, 2, 1], 0.1, window=2) == 3


def test_steps_to_target_is_one_count_per_random_start():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(200, 4, 5))
    labels = (images[:, 0, 0] > 0).astype(np.int32)
    kwargs = dict(depth=3, width=16, steps=60, target=0.5, classes=2)
    counts = mf.steps_to_target("tanh", 0.1, "orthogonal", images, labels,
                                learning_rates=(0.01, 0.1), seeds=[0, 1], **kwargs)
    assert counts.shape == (2,) and np.all((counts > 0) & (counts <= 60))
    sigma_w, sigma_b = (float(a) for a in mf.critical_line("tanh", 0.1))
    x = mf.fixed_point_inputs(images, "tanh", sigma_w, sigma_b)
    model = mf.DeepNetwork("tanh", 3, 16, 20, 2, sigma_w, sigma_b, "orthogonal", rngs=nnx.Rngs(1))
    by_hand = min(mf.steps_to_loss(mf.training_curve(model, x, labels, steps=60, batch_size=64,
                                                     learning_rate=lr, seed=1), 0.5)
                  for lr in (0.01, 0.1))
    assert counts[1] == by_hand                                   # the best rate for seed 1
    never = mf.steps_to_target("tanh", 0.1, "orthogonal", images, labels,
                               learning_rates=1e-6, seeds=0, **dict(kwargs, target=1e-3))
    assert never[0] == 60                                         # never reached: counts as steps
    with pytest.raises(ValueError, match="seeds"):
        mf.steps_to_target("tanh", 0.1, "orthogonal", images, labels, learning_rates=0.1,
                           seeds=[], **kwargs)
    with pytest.raises(ValueError, match="target"):
        mf.steps_to_target("tanh", 0.1, "orthogonal", images, labels, learning_rates=0.1,
                           seeds=0, **dict(kwargs, target=-1.0))


def test_selu_moment_is_exact_across_its_kink():
    # E[selu′(h)²] = λ² (1/2 + α² e^{2q} Φ(−2√q)): the law must split at the kink at 0.
    from scipy.stats import norm

    from neurotheory.nonlinearities import SELU_ALPHA, SELU_SCALE

    for q in (0.05, 1.0, 30.0):
        exact = SELU_SCALE ** 2 * (0.5 + SELU_ALPHA ** 2 * np.exp(2 * q) * norm.cdf(-2 * np.sqrt(q)))
        assert float(mf.derivative_moment("selu", q, 1)) == pytest.approx(exact, rel=1e-7)


@pytest.mark.parametrize("phi", ["tanh", "sin", "swish"])
def test_derivative_moments_hold_at_large_q(phi):
    # Up to q* = 30 the law of φ′² matches adaptive quadrature (tanh′² there is a spike of width ~1/√q).
    from scipy.integrate import quad
    from scipy.stats import norm

    from neurotheory import nonlinearities

    dphi = nonlinearities.derivative(phi)
    q = 30.0
    for k in (1, 2, 3):
        exact = quad(lambda h: float(dphi(np.float64(h))) ** (2 * k) * norm.pdf(h, scale=np.sqrt(q)),
                     -8 * np.sqrt(q), 8 * np.sqrt(q), limit=800, points=[0.0])[0]
        assert float(mf.derivative_moment(phi, q, k)) == pytest.approx(exact, rel=1e-5)
