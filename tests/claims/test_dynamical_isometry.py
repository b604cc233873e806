"""Headline claims of Pennington, Schoenholz & Ganguli (2017), at quick scale.

Critical initialisation is χ = 1; free probability predicts the Jacobian spectrum of sampled
networks; its variance grows like L μ₂/μ₁² (Gaussian; L/p for hard-tanh), L(1/p − 1) (orthogonal hard-tanh)
and L (orthogonal ReLU); and at depth, orthogonal tanh at small q* trains faster than Gaussian
tanh and than ReLU with either weight law (median steps to a loss over several random starts).
"""

import numpy as np
import pytest
from scipy.integrate import trapezoid

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


# The paper's practical claim: at depth, orthogonal tanh on the critical line at small q* trains faster
# than Gaussian tanh (same nonlinearity, no isometry) and than ReLU with either weight law (isometry
# impossible). Speed is training steps to a loss, the median over several random starts (initial
# weights and minibatch order), each initialisation at its best learning rate of a small grid.
SPEED_DEPTH, SPEED_WIDTH, SPEED_STEPS, SPEED_TARGET = 48, 48, 250, 1.0
SPEED_SEEDS = range(5)
SPEED_CONFIGS = {"orthogonal tanh": ("tanh", 1 / 64, "orthogonal"), "gaussian tanh": ("tanh", 1 / 64, "gaussian"),
                 "orthogonal relu": ("relu", 1.0, "orthogonal"), "gaussian relu": ("relu", 1.0, "gaussian")}
GAUSSIAN_TANH_MARGIN, RELU_MARGIN = 2.0, 3.0


def median_speedup(fast_steps, slow_steps):
    """median(slow) / median(fast): how many times fewer steps the fast initialisation needs."""
    return float(np.median(slow_steps) / np.median(fast_steps))


@pytest.fixture(scope="module")
def steps_to_target():
    task = synthetic_cifar10(2000, seed=0, noise=2.0)
    # Runs that never reach the target count as SPEED_STEPS: the ratios below are then lower bounds.
    return {name: mf.steps_to_target(phi, q, weights, task.images, task.labels, depth=SPEED_DEPTH,
                                     width=SPEED_WIDTH, steps=SPEED_STEPS, learning_rates=(0.003, 0.01),
                                     target=SPEED_TARGET, seeds=SPEED_SEEDS)
            for name, (phi, q, weights) in SPEED_CONFIGS.items()}


def test_orthogonal_critical_tanh_at_small_q_trains_faster_than_gaussian_tanh_and_relu(steps_to_target):
    fast = steps_to_target["orthogonal tanh"]
    print({name: (int(np.median(steps)), round(median_speedup(fast, steps), 2)) for name, steps in steps_to_target.items()})
    assert max(fast) < SPEED_STEPS, steps_to_target  # every random start reaches the target
    assert median_speedup(fast, steps_to_target["gaussian tanh"]) >= GAUSSIAN_TANH_MARGIN, steps_to_target
    for relu in ("orthogonal relu", "gaussian relu"):
        assert median_speedup(fast, steps_to_target[relu]) >= RELU_MARGIN, steps_to_target


def test_the_speed_criterion_rejects_swapped_or_equal_initialisations(steps_to_target):
    # Test of the test: the margin fails if the orthogonal and Gaussian tanh networks were swapped or
    # trained equally fast (a ratio of 1 is what "orthogonality does not matter" predicts).
    fast, slow = steps_to_target["orthogonal tanh"], steps_to_target["gaussian tanh"]
    assert median_speedup(slow, fast) < GAUSSIAN_TANH_MARGIN
    assert median_speedup(fast, fast) < GAUSSIAN_TANH_MARGIN
    assert median_speedup(slow, slow) < GAUSSIAN_TANH_MARGIN
