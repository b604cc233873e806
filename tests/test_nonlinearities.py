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
        nonlinearities.get("softplus")


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


def test_kinks_of_names_and_of_a_shifted_relu():
    assert nonlinearities.kinks("relu") == (0.0,)
    assert nonlinearities.kinks("hard_tanh") == (-1.0, 1.0)
    assert nonlinearities.kinks("tanh") == ()
    shifted = nonlinearities.shifted_relu(0.5)
    assert nonlinearities.shifted_relu(0.5) is shifted          # one compilation per c
    assert nonlinearities.kinks(shifted) == (-0.5,)
    h = jnp.array([-2.0, -0.6, -0.4, 0.0, 1.5])
    np.testing.assert_allclose(shifted(h), [-0.5, -0.5, -0.4, 0.0, 1.5])
    np.testing.assert_allclose(nonlinearities.derivative(shifted)(h), [0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="c must be finite"):
        nonlinearities.shifted_relu(float("nan"))
    with pytest.raises(TypeError, match="c must be a number"):
        nonlinearities.shifted_relu("1")


def test_selu_is_the_self_normalizing_unit():
    # Klambauer et al.: at q = 1, E[selu(h)] = 0 and E[selu(h)²] = 1 (the fixed point).
    h, w = nonlinearities.gaussian_rule(1.0, nonlinearities.kinks("selu"))
    selu = nonlinearities.get("selu")
    assert float(jnp.sum(w * selu(h))) == pytest.approx(0.0, abs=1e-6)
    assert float(jnp.sum(w * selu(h) ** 2)) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("q", [1e-4, 1.0, 30.0])
def test_gaussian_rule_is_exact_across_kinks(q):
    from scipy.stats import norm

    from neurotheory import runtime

    with runtime.float64():
        h, w = (np.asarray(a) for a in nonlinearities.gaussian_rule(q, (0.0, 1.0)))
    assert w.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.sum(w * h ** 4) == pytest.approx(3 * q ** 2, rel=1e-6)
    assert np.sum(w * np.abs(h)) == pytest.approx(np.sqrt(2 * q / np.pi), rel=1e-6)
    assert np.sum(w * (h > 1.0)) == pytest.approx(norm.sf(1 / np.sqrt(q)), abs=1e-9)


def test_from_expression_builds_a_differentiable_phi():
    phi = nonlinearities.from_expression(" jnp.tanh(h) + 0.1 * h ")
    assert nonlinearities.from_expression("jnp.tanh(h) + 0.1 * h") is phi
    h = jnp.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(phi(h), jnp.tanh(h) + 0.1 * h, rtol=1e-6)
    np.testing.assert_allclose(nonlinearities.derivative(phi)(h), 1.1 - jnp.tanh(h) ** 2, rtol=1e-5)
    for bad, why in [("jnp.tanh(h", "does not parse"), ("open('x')", "fails"), ("jnp.log(h)", "finite"),
                     ("", "non-empty")]:
        with pytest.raises(ValueError, match=why):
            nonlinearities.from_expression(bad)
