"""Headline claims of Pennington, Schoenholz & Ganguli (2018), at quick scale.

Free probability predicts the moments of J Jᵀ for nonlinearities beyond the 2017 paper
(SELU, swish, sin); under the universal scaling L(μ₂/μ₁² − 1) = σ² the finite-depth
spectra approach one limit per class, and only because of the scaling; and a reader's
callable is treated exactly like the name it imitates.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurotheory import meanfield, spectra

DEPTH, WIDTH, NETWORKS = 8, 800, 8
MOMENT_TOLERANCE = 0.10
CASES = [("selu", 1.0), ("swish", 25.0), ("sin", 1.0)]  # swish's fixed point is stable only at large q*


def relative_error(predicted, observed):
    return np.max(np.abs(np.asarray(observed) / np.asarray(predicted) - 1))


def observed_moments(ev):
    """m₁ over all networks, then m₂/m₁² and m₃/m₁³ of each network's spectrum, averaged.

    A network's overall gain (its own m₁) wanders by several percent at this width, and
    m₂, m₃ carry it squared and cubed; the shape of the spectrum, m_k/m₁^k, does not.
    """
    m1 = ev.mean(axis=1, keepdims=True)
    return np.array([m1.mean(), *(np.mean((ev / m1) ** k) for k in (2, 3))])


def predicted_shape(moments):
    m1, m2, m3 = moments
    return np.array([m1, m2 / m1 ** 2, m3 / m1 ** 3])


@pytest.mark.parametrize("phi, q", CASES)
def test_theory_predicts_the_first_three_moments(phi, q):
    sigma_w, sigma_b = (float(a) for a in meanfield.critical_line(phi, q))
    theory = spectra.jacobian_moments(phi, DEPTH, sigma_w, sigma_b, "orthogonal", 3, q_star=q)
    ev = spectra.sample_jacobian_eigenvalues(phi, DEPTH, WIDTH, sigma_w, sigma_b, "orthogonal",
                                             list(range(NETWORKS)), q_star=q)
    observed = observed_moments(ev)
    assert relative_error(predicted_shape(theory), observed) < MOMENT_TOLERANCE, (theory, observed)
    # Test of the test: the nearest wrong theories miss the same samples. Keeping only the mean
    # χ^L (the nonlinearity as a constant gain), or the Gaussian-weight law, is off by far more.
    gain_only = np.ones(3)
    wrong_weights = spectra.jacobian_moments(phi, DEPTH, sigma_w, sigma_b, "gaussian", 3, q_star=q)
    assert relative_error(gain_only, observed) > 2 * MOMENT_TOLERANCE
    assert relative_error(predicted_shape(wrong_weights), observed) > 2 * MOMENT_TOLERANCE


VARIANCE = 0.5
X = np.linspace(1e-3, 6.0, 600)
L1_AT_256 = {"tanh": 0.15, "sin": 0.15, "hard_tanh": 0.005}


def l1(a, b):
    return float(np.sum(np.abs(a - b)) * (X[1] - X[0]))


@pytest.mark.parametrize("phi", sorted(L1_AT_256))
def test_scaled_spectra_approach_their_limit(phi):
    limit = spectra.limiting_density(phi, X, variance=VARIANCE)
    distance = {}
    for depth in (64, 256):
        _, sigma_w, sigma_b = spectra.universal_scaling(phi, depth, VARIANCE)
        distance[depth] = l1(spectra.jacobian_density(phi, depth, sigma_w, sigma_b, "orthogonal", X), limit)
    assert distance[256] < distance[64]
    assert distance[256] < L1_AT_256[phi], distance
    # Test of the test: without the scaling (q* held at its depth-64 value) the depth-256
    # spectrum moves away from the limit instead: its variance has grown fourfold.
    q, sigma_w, sigma_b = spectra.universal_scaling(phi, 64, VARIANCE)
    unscaled = spectra.jacobian_density(phi, 256, sigma_w, sigma_b, "orthogonal", X)
    assert l1(unscaled, limit) > 2 * distance[64]


def test_a_callable_is_its_name():
    # swish typed in by a reader: same moments as the library's "swish" to quadrature accuracy,
    # while a nearby function (a 5% steeper sin against sin) is told apart.
    sigma_w, sigma_b = (float(a) for a in meanfield.critical_line("swish", 25.0))
    named = spectra.jacobian_moments("swish", DEPTH, sigma_w, sigma_b, "orthogonal", 3, q_star=25.0)
    typed = spectra.jacobian_moments(lambda h: h * jax.nn.sigmoid(h), DEPTH, sigma_w, sigma_b,
                                     "orthogonal", 3, q_star=25.0)
    np.testing.assert_allclose(typed, named, rtol=1e-6)
    sigma_w, sigma_b = (float(a) for a in meanfield.critical_line("sin", 1.0))
    sin = spectra.jacobian_moments("sin", DEPTH, sigma_w, sigma_b, "orthogonal", 3)
    typed_sin = spectra.jacobian_moments(lambda h: jnp.sin(h), DEPTH, sigma_w, sigma_b, "orthogonal", 3)
    steeper = spectra.jacobian_moments(lambda h: jnp.sin(1.05 * h) / 1.05, DEPTH, sigma_w, sigma_b,
                                       "orthogonal", 3)
    np.testing.assert_allclose(typed_sin, sin, rtol=1e-6)
    assert relative_error(sin, steeper) > 1e-3
