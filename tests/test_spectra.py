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
        spectra.atoms("swish", 3, 1.0, 0.0, "gaussian")
