"""Headline claims of Pennington, Schoenholz & Ganguli (2017), at quick scale.

Critical initialisation is χ = 1; free probability predicts the Jacobian spectrum of sampled
networks; its variance grows like L/p (Gaussian), L(1/p − 1) (orthogonal hard-tanh) and
L (orthogonal ReLU); and networks with an isometric Jacobian train faster than ReLU networks.
"""

import numpy as np
import pytest
from scipy.integrate import trapezoid
from flax import nnx

from neurotheory import data, meanfield as mf, spectra

synthetic_cifar10 = data.synthetic_cifar10


@pytest.mark.parametrize("phi", ["tanh", "hard_tanh", "erf", "relu"])
def test_critical_line_points_have_chi_one(phi):
    sigma_w, sigma_b = mf.critical_line(phi, np.geomspace(1 / 64, 4.0, 9))
    np.testing.assert_allclose(mf.chi(phi, sigma_w, sigma_b), 1.0, atol=1e-6)
    assert mf.chi("relu", np.sqrt(2.0), 0.0) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("phi, q, weights, networks", [("tanh", 0.1, "orthogonal", 3), ("relu", 1.0, "gaussian", 16)])
def test_theory_mean_and_variance_match_sampled_networks(phi, q, weights, networks):
    sigma_w, sigma_b = (float(a) for a in mf.critical_line(phi, q))
    depth, width = 8, 400
    m1, m2 = spectra.jacobian_moments(phi, depth, sigma_w, sigma_b, weights, 2)
    ev = spectra.sample_jacobian_eigenvalues(phi, depth, width, sigma_w, sigma_b, weights, list(range(networks)))
    mean, var = ev.mean(axis=1), ev.var(axis=1)
    assert mean.mean() == pytest.approx(m1, rel=0.10)
    # The variance relative to the squared mean: one network's overall scale fluctuates at finite
    # width, which this ratio divides out (theory: m1 = 1 on the critical line).
    assert np.mean(var / mean ** 2) == pytest.approx((m2 - m1 ** 2) / m1 ** 2, rel=0.10)


def test_density_plus_atoms_integrates_to_one():
    for phi, q, depth, weights in [("tanh", 0.05, 8, "orthogonal"), ("hard_tanh", 1.0, 2, "orthogonal"),
                                   ("relu", 1.0, 1, "gaussian")]:
        sigma_w, sigma_b = (float(a) for a in mf.critical_line(phi, q))
        x = np.union1d(np.geomspace(1e-12, 50.0, 800), np.linspace(0.02, 6.0, 1200))
        rho = spectra.jacobian_density(phi, depth, sigma_w, sigma_b, weights, x)
        atoms = spectra.atoms(phi, depth, sigma_w, sigma_b, weights)
        mass = trapezoid(rho * x, np.log(x)) + sum(m for _, m in atoms)
        assert mass == pytest.approx(1.0, abs=1e-3), (phi, weights)


def variance_slope(phi, q, weights):
    sigma_w, sigma_b = (float(a) for a in mf.critical_line(phi, q))
    depths = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    variances = []
    for depth in depths:
        m1, m2 = spectra.jacobian_moments(phi, int(depth), sigma_w, sigma_b, weights, 2)
        variances.append(m2 - m1 ** 2)
    return np.polyfit(depths, variances, 1)[0]


def test_variance_against_depth_has_the_predicted_slopes():
    for q in (1 / 64, 0.25, 1.0):
        p = float(mf.derivative_moment("hard_tanh", q))
        assert variance_slope("hard_tanh", q, "gaussian") == pytest.approx(1 / p, rel=1e-6)
        assert variance_slope("hard_tanh", q, "orthogonal") == pytest.approx(1 / p - 1, rel=1e-6, abs=1e-9)
    assert variance_slope("relu", 1.0, "orthogonal") == pytest.approx(1.0, rel=1e-6)
    assert variance_slope("relu", 1.0, "gaussian") == pytest.approx(2.0, rel=1e-6)
    # Orthogonal sigmoidal networks at small q* stay near isometry: the slope vanishes as q* → 0.
    assert variance_slope("tanh", 1 / 64, "orthogonal") < 0.05


def test_orthogonal_critical_tanh_trains_faster_than_critical_relu():
    depth, width, steps, target = 30, 96, 200, 1.0
    task = synthetic_cifar10(2000, seed=0, noise=2.0)
    steps_to = {}
    for phi, q, weights in [("tanh", 1 / 64, "orthogonal"), ("relu", 1.0, "orthogonal"), ("relu", 1.0, "gaussian")]:
        sigma_w, sigma_b = (float(a) for a in mf.critical_line(phi, q))
        x = mf.fixed_point_inputs(task.images, phi, sigma_w, sigma_b)
        model = mf.DeepNetwork(phi, depth, width, x.shape[1], 10, sigma_w, sigma_b, weights, rngs=nnx.Rngs(0))
        steps_to[phi, weights] = min(
            mf.steps_to_loss(mf.training_curve(model, x, task.labels, steps=steps, batch_size=64,
                                               learning_rate=lr), target)
            for lr in (0.003, 0.01))
    tanh = steps_to["tanh", "orthogonal"]
    assert tanh < steps, steps_to
    assert tanh < steps_to["relu", "orthogonal"] and tanh < steps_to["relu", "gaussian"], steps_to
