import jax.numpy as jnp
import numpy as np
import pytest

from neurotheory import nonlinearities


@pytest.mark.parametrize("name", nonlinearities.NAMES)
def test_derivative_matches_autodiff(name):
    import jax

    h = jnp.linspace(-2.3, 2.3, 40)          # avoids the kinks of relu (0) and hard_tanh (±1)
    exact = nonlinearities.derivative(name)(h)
    auto = jax.vmap(jax.grad(nonlinearities.get(name)))(h)
    np.testing.assert_allclose(exact, auto, rtol=1e-5, atol=1e-6)


def test_callable_passes_through_and_gets_a_derivative():
    f = lambda h: h**3
    assert nonlinearities.get(f) is f
    np.testing.assert_allclose(nonlinearities.derivative(f)(jnp.array([1.0, 2.0])), [3.0, 12.0])


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="tanh"):
        nonlinearities.get("swish")


@pytest.mark.parametrize("q", [0.1, 1.0, 4.0])
def test_gaussian_mean_closed_forms(q):
    # E[z²] = 1, E[z⁴] = 3, E[relu(√q z)²] = q/2
    assert float(nonlinearities.gaussian_mean(lambda h: h**2, q)) == pytest.approx(q, rel=1e-6)
    assert float(nonlinearities.gaussian_mean(lambda h: h**4, q)) == pytest.approx(3 * q**2, rel=1e-5)
    relu = nonlinearities.get("relu")
    assert float(nonlinearities.gaussian_mean(lambda h: relu(h) ** 2, q)) == pytest.approx(q / 2, rel=2e-3)


def test_gauss_hermite_weights_sum_to_one():
    z, w = nonlinearities.gauss_hermite(31)
    assert w.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n must be"):
        nonlinearities.gauss_hermite(1)
