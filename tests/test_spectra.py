"""Free-probability spectrum of the Jacobian: closed forms, normalisation, sampling, errors."""

import numpy as np
import pytest
from scipy.integrate import trapezoid

from neurotheory import meanfield as mf
from neurotheory import spectra


def critical(phi, q):
    sigma_w, sigma_b = mf.critical_line(phi, q)
    return float(sigma_w), float(sigma_b)


@pytest.mark.parametrize("phi, q", [("tanh", 0.1), ("hard_tanh", 0.5), ("erf", 1.0), ("relu", 1.0)])
@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_moments_match_the_closed_forms(phi, q, weights):
    sigma_w, sigma_b = critical(phi, q)
    mu1, mu2 = mf.derivative_moment(phi, q, 1), mf.derivative_moment(phi, q, 2)
    depth = 7
    m1, m2 = spectra.jacobian_moments(phi, depth, sigma_w, sigma_b, weights, 2)
    expected = depth * (mu2 / mu1 ** 2 - 1) + (depth if weights == "gaussian" else 0)
    assert m1 == pytest.approx(1.0, rel=1e-9)
    assert m2 - m1 ** 2 == pytest.approx(expected, rel=1e-6)  # spectra uses a 96-node law, the closed form 200


def test_one_linear_gaussian_layer_is_marchenko_pastur():
    # J Jᵀ = W Wᵀ with aspect ratio 1: moments are the Catalan numbers, density √(4x − x²)/(2πx).
    moments = spectra.jacobian_moments("linear", 1, 1.0, 0.0, "gaussian", 5)
    np.testing.assert_allclose(moments, [1, 2, 5, 14, 42], rtol=1e-10)
    x = np.linspace(0.05, 3.95, 40)
    np.testing.assert_allclose(spectra.jacobian_density("linear", 1, 1.0, 0.0, "gaussian", x),
                               np.sqrt(4 * x - x ** 2) / (2 * np.pi * x), rtol=1e-5)


def test_product_of_two_gaussian_layers_fuss_catalan_moments():
    # Products of L Ginibre matrices have Fuss–Catalan moments C(n(L+1), n)/(nL + 1).
    from math import comb

    moments = spectra.jacobian_moments("linear", 2, 1.0, 0.0, "gaussian", 4)
    np.testing.assert_allclose(moments, [comb(3 * n, n) / (2 * n + 1) for n in range(1, 5)], rtol=1e-10)


@pytest.mark.parametrize("phi, q, depth, weights", [("tanh", 0.2, 6, "orthogonal"), ("erf", 0.5, 1, "gaussian"),
                                                     ("hard_tanh", 1.0, 2, "orthogonal"), ("relu", 1.0, 1, "gaussian")])
def test_density_and_atoms_integrate_to_one_and_give_the_mean(phi, q, depth, weights):
    sigma_w, sigma_b = critical(phi, q)
    x = np.union1d(np.geomspace(1e-12, 40.0, 800), np.linspace(0.02, 6.0, 1200))
    rho = spectra.jacobian_density(phi, depth, sigma_w, sigma_b, weights, x)
    atoms = spectra.atoms(phi, depth, sigma_w, sigma_b, weights)
    mass = trapezoid(rho * x, np.log(x)) + sum(m for _, m in atoms)
    mean = trapezoid(rho * x ** 2, np.log(x)) + sum(loc * m for loc, m in atoms)
    assert mass == pytest.approx(1.0, abs=2e-3)
    assert mean == pytest.approx(1.0, rel=5e-3)


def test_atoms_relu_and_hard_tanh():
    assert spectra.atoms("relu", 5, np.sqrt(2), 0.0, "gaussian") == [(0.0, 0.5)]
    assert spectra.atoms("relu", 3, np.sqrt(2), 0.0, "orthogonal") == [(0.0, 0.5)]
    assert spectra.atoms("tanh", 3, 1.0, 0.1, "orthogonal") == []
    sigma_w, sigma_b = critical("hard_tanh", 1.0)
    (zero, p0), (top, p1) = spectra.atoms("hard_tanh", 2, sigma_w, sigma_b, "orthogonal")
    assert zero == 0.0 and top == pytest.approx(sigma_w ** 4)
    assert p1 == pytest.approx(1 - 2 * p0)


def test_sampled_networks_show_the_atoms():
    sigma_w, sigma_b = critical("hard_tanh", 1.0)
    ev = spectra.sample_jacobian_eigenvalues("hard_tanh", 2, 300, sigma_w, sigma_b, "orthogonal", [0, 1, 2, 3])
    (_, p0), (top, p1) = spectra.atoms("hard_tanh", 2, sigma_w, sigma_b, "orthogonal")
    assert ev.shape == (4, 300)
    assert np.mean(ev < 1e-4) == pytest.approx(p0, abs=0.05)
    assert np.mean(np.abs(ev - top) < 1e-3 * top) == pytest.approx(p1, abs=0.05)
    found = spectra.atoms("hard_tanh", 2, sigma_w, sigma_b, "orthogonal")
    assert np.mean(spectra.atom_mask(ev, found)) == pytest.approx(p0 + p1, abs=0.05)


def test_density_follows_a_sampled_histogram():
    sigma_w, sigma_b = critical("erf", 0.5)
    ev = spectra.sample_jacobian_eigenvalues("erf", 4, 300, sigma_w, sigma_b, "orthogonal", [0, 1]).ravel()
    edges = np.linspace(0, np.quantile(ev, 0.99), 13)
    counts, _ = np.histogram(ev, bins=edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    expected = []
    for a, b in zip(edges[:-1], edges[1:]):
        fine = np.geomspace(max(a, 1e-12), b, 120)  # log grid: the density may diverge at 0
        rho = spectra.jacobian_density("erf", 4, sigma_w, sigma_b, "orthogonal", fine)
        expected.append(trapezoid(rho * fine, np.log(fine)) * ev.size)
    expected = np.array(expected)
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected) + 8), (counts, expected.round(1), centres)


def test_density_is_zero_off_the_positive_axis_and_keeps_the_order_of_x():
    x = np.array([2.0, -1.0, 0.0, 0.5, 3.0])
    rho = spectra.jacobian_density("linear", 1, 1.0, 0.0, "gaussian", x)
    assert rho[1] == 0 and rho[2] == 0
    inside = x[[0, 3, 4]]
    np.testing.assert_allclose(rho[[0, 3, 4]], np.sqrt(4 * inside - inside ** 2) / (2 * np.pi * inside), rtol=1e-5)


def test_callable_nonlinearity_matches_its_name():
    import jax.numpy as jnp

    x = np.linspace(0.1, 3.0, 30)
    named = spectra.jacobian_density("tanh", 3, 1.1, 0.1, "orthogonal", x)
    as_callable = spectra.jacobian_density(lambda h: jnp.tanh(h), 3, 1.1, 0.1, "orthogonal", x)
    np.testing.assert_allclose(as_callable, named, rtol=1e-6, atol=1e-9)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="weights"):
        spectra.jacobian_density("tanh", 3, 1.0, 0.0, "uniform", [1.0])
    with pytest.raises(ValueError, match="depth"):
        spectra.jacobian_moments("tanh", 0, 1.0, 0.0, "gaussian", 2)
    with pytest.raises(TypeError, match="depth"):
        spectra.jacobian_moments("tanh", 2.5, 1.0, 0.0, "gaussian", 2)
    with pytest.raises(ValueError, match="sigma_w"):
        spectra.jacobian_density("tanh", 3, 0.0, 0.0, "gaussian", [1.0])
    with pytest.raises(ValueError, match="x"):
        spectra.jacobian_density("tanh", 3, 1.0, 0.0, "gaussian", [np.nan])
    with pytest.raises(ValueError, match="k"):
        spectra.jacobian_moments("tanh", 3, 1.0, 0.0, "gaussian", 0)
    with pytest.raises(ValueError, match="width"):
        spectra.sample_jacobian_eigenvalues("tanh", 3, 1, 1.0, 0.0, "gaussian", 0)
    with pytest.raises(TypeError, match="seed"):
        spectra.sample_jacobian_eigenvalues("tanh", 3, 8, 1.0, 0.0, "gaussian", "zero")
    with pytest.raises(ValueError, match="phi"):
        spectra.atoms("softplus", 3, 1.0, 0.0, "gaussian")


def test_s_transform_closed_forms():
    # Linear: S_{D²} = 1, so S = σ_w⁻² (orthogonal) or 1/(σ_w²(1 + z)) (Gaussian, Marchenko–Pastur).
    z = np.array([-0.5, 0.0, 0.3, 4.0])
    np.testing.assert_allclose(spectra.s_transform("linear", 0.8, 0.3, "orthogonal")(z), 1 / 0.8 ** 2)
    np.testing.assert_allclose(spectra.s_transform("linear", 0.8, 0.3, "gaussian")(z), 1 / (0.8 ** 2 * (1 + z)))
    # φ′² Bernoulli(p): S_{D²}(z) = (1 + z)/(p + z); shifted ReLU has p = Φ(c/√q*).
    from scipy.stats import norm

    from neurotheory import nonlinearities

    shifted = nonlinearities.shifted_relu(0.5)
    sigma_w, sigma_b = critical(shifted, 0.7)
    p = norm.cdf(0.5 / np.sqrt(0.7))
    z = np.array([-0.9 * p, -0.2, 0.0, 0.5, 10.0])
    np.testing.assert_allclose(spectra.s_transform(shifted, sigma_w, sigma_b, "orthogonal")(z) * sigma_w ** 2,
                               (1 + z) / (p + z), rtol=1e-9)
    with pytest.raises(ValueError, match="z must be"):
        spectra.s_transform(shifted, sigma_w, sigma_b, "orthogonal")(-1.01 * p)


@pytest.mark.parametrize("phi", ["selu", "swish", "sin", "tanh"])
def test_s_transform_expands_to_the_moments(phi):
    # S(z) = 1/m₁ − (m₂ − m₁²)/m₁³ z + O(z²) for one layer, and S_{JJᵀ} = S^L.
    sigma_w, sigma_b = 1.3, 0.4
    q = 25.0 if phi == "swish" else None
    if q is not None:
        sigma_w, sigma_b = critical(phi, q)
    m1, m2 = spectra.jacobian_moments(phi, 1, sigma_w, sigma_b, "gaussian", 2, q_star=q)
    s = spectra.s_transform(phi, sigma_w, sigma_b, "gaussian", q_star=q)
    eps = 1e-5
    assert float(s(0.0)) == pytest.approx(1 / m1, rel=1e-9)
    assert float((s(eps) - s(-eps)) / (2 * eps)) == pytest.approx(-(m2 - m1 ** 2) / m1 ** 3, rel=1e-5)


@pytest.mark.parametrize("phi, cls", [("tanh", "smooth"), ("erf", "smooth"), ("sin", "smooth"),
                                      ("swish", "smooth"), ("hard_tanh", "bernoulli")])
def test_universality_classes(phi, cls):
    assert spectra.universality_class(phi) == cls


def test_no_limit_says_why():
    import jax.numpy as jnp

    from neurotheory import nonlinearities

    assert spectra.universality_class(nonlinearities.shifted_relu(1.0)) == "bernoulli"
    for phi, why in [("relu", "jumps or vanishes"), ("selu", "jumps or vanishes"), ("sigmoid", "phi\\(0\\)"),
                     ("linear", "single atom"), (lambda h: h ** 3, "jumps or vanishes"),
                     (lambda h: jnp.clip(h, -1, 1) + 0.1 * (h - jnp.clip(h, -1, 1)), "several slopes")]:
        with pytest.raises(ValueError, match=why):
            spectra.limiting_density(phi, [1.0], variance=0.5)
    with pytest.raises(ValueError, match="Gaussian weights"):
        spectra.universality_class("tanh", "gaussian")


@pytest.mark.parametrize("phi", ["tanh", "hard_tanh"])
def test_universal_scaling_fixes_the_variance_on_the_critical_line(phi):
    for depth in (10, 1000):
        q, sigma_w, sigma_b = spectra.universal_scaling(phi, depth, 0.8)
        assert float(mf.chi(phi, sigma_w, sigma_b)) == pytest.approx(1.0, rel=1e-9)
        m1, m2 = spectra.jacobian_moments(phi, depth, sigma_w, sigma_b, "orthogonal", 2)
        assert m2 - m1 ** 2 == pytest.approx(0.8, rel=1e-6)
    with pytest.raises(ValueError, match="variance"):
        spectra.universal_scaling("sin", 1, 5.0)  # sin′² = cos² never has μ₂/μ₁² − 1 above 1/2


@pytest.mark.parametrize("phi, m3, rate", [("tanh", lambda s: 1 + 3 * s + 1.5 * s ** 2, 0.5),
                                           ("hard_tanh", lambda s: 1 + 2 * s + 1.5 * s ** 2, 1.0)])
def test_finite_depth_moments_converge_to_the_limit(phi, m3, rate):
    # The gap in m₄ closes like L^{−1/2} for tanh (φ″(0) = 0), like 1/L for hard-tanh.
    variance = 0.6
    limit = spectra.limiting_moments(phi, 4, variance=variance)
    np.testing.assert_allclose(limit[:3], [1.0, 1 + variance, m3(variance)], rtol=1e-12)
    gaps = []
    for depth in (256, 4096):
        _, sigma_w, sigma_b = spectra.universal_scaling(phi, depth, variance)
        gaps.append(abs(spectra.jacobian_moments(phi, depth, sigma_w, sigma_b, "orthogonal", 4)[3] - limit[3]))
    assert gaps[0] / gaps[1] == pytest.approx(16 ** rate, rel=0.25)
    assert gaps[1] < 0.2


def test_limiting_density_integrates_to_its_moments():
    x = np.union1d(np.geomspace(1e-10, 100.0, 2000), np.linspace(0.01, 8.0, 1500))
    for phi in ("tanh", "hard_tanh"):
        rho = spectra.limiting_density(phi, x, variance=0.5)
        found = spectra.limiting_atoms(phi, variance=0.5)
        m1 = trapezoid(rho * x ** 2, np.log(x)) + sum(loc * m for loc, m in found)
        m2 = trapezoid(rho * x ** 3, np.log(x)) + sum(loc ** 2 * m for loc, m in found)
        np.testing.assert_allclose([m1, m2], spectra.limiting_moments(phi, 2, variance=0.5)[:2], rtol=2e-3)
    # Smooth class: all the mass is in the density. Bernoulli: an atom at e^{σ²} of mass 1 − σ²,
    # and a density whose mass below x falls only like σ²/log(1/x).
    assert trapezoid(spectra.limiting_density("tanh", x, variance=0.5) * x, np.log(x)) == pytest.approx(1, abs=1e-3)
    assert spectra.limiting_atoms("hard_tanh", variance=0.5) == [(pytest.approx(np.exp(0.5)), 0.5)]
    assert spectra.limiting_atoms("hard_tanh", variance=1.5) == []


def test_sampling_a_callable_matches_its_name():
    import jax.numpy as jnp

    sigma_w, sigma_b = critical("tanh", 0.5)
    named = spectra.sample_jacobian_eigenvalues("tanh", 3, 40, sigma_w, sigma_b, "orthogonal", [0, 1])
    as_callable = spectra.sample_jacobian_eigenvalues(lambda h: jnp.tanh(h), 3, 40, sigma_w, sigma_b,
                                                      "orthogonal", [0, 1])
    np.testing.assert_allclose(as_callable, named, rtol=1e-4, atol=1e-6)


def test_q_star_must_be_a_fixed_point():
    sigma_w, sigma_b = critical("swish", 25.0)
    assert spectra.jacobian_moments("swish", 2, sigma_w, sigma_b, "orthogonal", 1, q_star=25.0)[0] == \
        pytest.approx(1.0)
    with pytest.raises(ValueError, match="q_star"):
        spectra.jacobian_moments("swish", 2, sigma_w, sigma_b, "orthogonal", 1, q_star=3.0)
