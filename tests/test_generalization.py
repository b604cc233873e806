"""Unit tests for neurotheory.generalization: closed forms, the bulk, curves and bad inputs."""

import numpy as np
import pytest
from scipy import integrate

from neurotheory import generalization as g
from neurotheory.deeplinear import mode_strength


@pytest.mark.parametrize("A", [0.25, 0.5, 1.0])
def test_marchenko_pastur_integrates_to_one_and_has_unit_second_moment(A):
    lo, hi = 1 - np.sqrt(A), 1 + np.sqrt(A)
    mass = integrate.quad(lambda x: g.marchenko_pastur(x, A), lo, hi, limit=200)[0]
    second = integrate.quad(lambda x: x ** 2 * g.marchenko_pastur(x, A), lo, hi, limit=200)[0]
    assert mass == pytest.approx(1.0, abs=1e-8)
    assert second == pytest.approx(1.0, abs=1e-8)      # E x² = E‖Z‖²/N₃ = 1
    assert np.all(g.marchenko_pastur([lo - 1e-3, hi + 1e-3, 5.0], A) == 0)


def test_data_singular_value_closed_form_and_edge():
    A = 0.5
    assert g.data_singular_value(2.0, A) == pytest.approx(np.sqrt(5 * 4.5) / 2)
    below = [0.0, 0.5, A ** 0.25]
    assert np.allclose(g.data_singular_value(below, A), 1 + np.sqrt(A))
    s_bar = np.linspace(1.0, 10, 50)
    s_hat = g.data_singular_value(s_bar, A)
    assert np.all(s_hat > s_bar) and np.all(np.diff(s_hat) > 0)
    # continuous at the detection threshold: ŝ(A^{1/4}⁺) = 1 + √A
    assert g.data_singular_value(A ** 0.25 * (1 + 1e-9), A) == pytest.approx(1 + np.sqrt(A), rel=1e-6)


def test_overlap_closed_form_limits_and_threshold():
    A = 1.0
    assert g.overlap(2.0, A) == pytest.approx(1 - 5 / (4 * 5), rel=1e-12)   # O_out = O_in at A = 1
    assert np.all(g.overlap([0.0, 0.3, A ** 0.25], A) == 0)
    assert g.overlap(1e3, 0.5) == pytest.approx(1.0, abs=1e-5)
    o_out, o_in = g.overlaps(3.0, 0.5)
    assert o_out == pytest.approx(np.sqrt(1 - 0.5 * 10 / (9 * 9.5)))
    assert o_in == pytest.approx(np.sqrt(1 - 9.5 / (9 * 10)))


@pytest.mark.parametrize("A", [0.3, 1.0])
def test_estimate_s_bar_inverts_the_data_singular_value(A):
    s_bar = np.linspace(1.05 * A ** 0.25, 8, 40)
    assert np.allclose(g.estimate_s_bar(g.data_singular_value(s_bar, A), A), s_bar, rtol=1e-9)
    assert np.all(g.estimate_s_bar([0.0, 1.0, 1 + np.sqrt(A)], A) == 0)


def test_noise_singular_values_are_the_bulk_quantiles():
    x = g.noise_singular_values(400, 0.5)
    assert np.all(np.diff(x) < 0) and x[0] < 1 + np.sqrt(0.5) and x[-1] > 1 - np.sqrt(0.5)
    median = integrate.quad(lambda y: g.marchenko_pastur(y, 0.5), 0, np.median(x))[0]
    assert median == pytest.approx(0.5, abs=2e-3)
    assert g.noise_singular_values(0, 0.5).size == 0


def test_error_curves_start_at_one_and_end_at_the_learned_data():
    t = np.array([0.0, 1e4])
    curves = g.error_curves([3.0], t, n_in=100, n_out=100, a0=1e-8)
    assert curves.test[0] == pytest.approx(1.0, abs=1e-6)
    assert curves.train[0] == pytest.approx(1.0, abs=1e-6)
    assert curves.train[-1] == pytest.approx(0.0, abs=1e-12)   # the data is fit exactly
    s_hat, o = g.data_singular_value(3.0), g.overlap(3.0)
    noise = g.noise_singular_values(99, 1.0)
    expected = (s_hat ** 2 - 2 * 3 * s_hat * o + 9 + np.sum(noise ** 2)) / 9
    assert curves.test[-1] == pytest.approx(expected, rel=1e-9)


def test_error_curves_only_the_ratio_t_over_tau_matters():
    t = np.linspace(0, 8, 33)
    slow = g.error_curves([2.0, 1.0], 3 * t, tau=3.0)
    fast = g.error_curves([2.0, 1.0], t)
    assert np.allclose(slow.test, fast.test) and np.allclose(slow.train, fast.train)


def test_narrow_hidden_layer_keeps_only_the_strongest_modes():
    t = np.array([1e3])
    full = g.error_curves([3.0], t, n_out=50, a0=1e-8)
    rank_one = g.error_curves([3.0], t, n_out=50, n_hidden=1, a0=1e-8)
    s_hat, o = g.data_singular_value(3.0, 0.5), g.overlap(3.0, 0.5)
    assert rank_one.test[0] == pytest.approx((s_hat ** 2 - 2 * 3 * s_hat * o + 9) / 9, rel=1e-9)
    assert rank_one.test[0] < full.test[0]
    assert rank_one.train[0] > full.train[0] == pytest.approx(0, abs=1e-12)


def test_optimal_stopping_is_a_minimum_of_the_curve():
    t_opt, error = g.optimal_stopping([6.0, 4.0, 2.0], n_in=100, n_out=100)
    grid = np.linspace(0, 3 * t_opt, 601)
    curve = g.error_curves([6.0, 4.0, 2.0], grid).test
    assert error <= curve.min() + 1e-9
    assert abs(t_opt - grid[np.argmin(curve)]) < 2 * (grid[1] - grid[0])
    # no detectable mode: the best is not to learn at all
    assert g.optimal_stopping([0.5], n_in=100, n_out=100)[1] == pytest.approx(1.0, abs=1e-6)


def test_shrinkage_closed_form_and_matrix():
    assert g.shrinkage_test_error([3.0], 1.0) == pytest.approx(1 - g.overlap(3.0) ** 2)
    assert g.shrinkage_test_error([0.5, 0.0], 1.0) == pytest.approx(1.0)
    teacher, data = g.sample_task([6.0, 4.0, 2.0], 400, 200, seed=1)
    W = g.optimal_shrinkage(data)
    assert W.shape == data.shape and np.linalg.matrix_rank(W) == 3
    error = np.sum((teacher - W) ** 2) / 56
    assert error == pytest.approx(g.shrinkage_test_error([6.0, 4.0, 2.0], 0.5), abs=0.02)
    assert error < np.sum((teacher - data) ** 2) / 56


def test_joint_modes_of_the_stacked_teacher():
    sigma, share = g.joint_modes(3.0, 4.0, 0.0)
    assert np.allclose(sigma, [4.0, 3.0]) and np.allclose(share, [0.0, 1.0])
    sigma, share = g.joint_modes(3.0, 4.0, 1.0)
    assert np.allclose(sigma, [5.0, 0.0]) and share[0] == pytest.approx(9 / 25)
    teacher, _ = g.sample_joint_tasks(3.0, 4.0, 0.6, 100, 20, seed=2)
    assert np.allclose(np.linalg.svd(teacher, compute_uv=False)[:2], g.joint_modes(3.0, 4.0, 0.6)[0])


def test_joint_test_error_matches_the_exact_flow_on_sampled_joint_data():
    """The aligned student's gradient flow is exact on the data's SVD: s_k(t) on each ŝ_k."""
    s_bar_a, s_bar_b, q, n_in, n_out = 2.0, 3.0, 0.7, 800, 200
    t = np.array([0.8, 1.6, 2.4])
    errors = []
    for seed in range(3):
        teacher, data = g.sample_joint_tasks(s_bar_a, s_bar_b, q, n_in, n_out, seed=seed)
        U, s_hat, Vt = np.linalg.svd(data, full_matrices=False)
        W = np.einsum("ik,tk,kj->tij", U, mode_strength(t[:, None], s_hat, 1e-5), Vt)
        errors.append(np.sum((teacher[:n_out] - W[:, :n_out]) ** 2, axis=(1, 2)) / s_bar_a ** 2)
    theory = g.joint_test_error(s_bar_a, s_bar_b, q, t, n_in=n_in, n_out=n_out)
    assert np.allclose(np.mean(errors, axis=0), theory, atol=0.03), (np.mean(errors, axis=0), theory)


def test_transfer_regimes_have_the_expected_sign():
    assert g.transfer_benefit(0.6, 5.0, 1.0) > 0.2          # impossible alone, learnable with B
    assert g.transfer_benefit(3.0, 3.0, 0.2) < -0.03        # interference
    assert abs(g.transfer_benefit(10.0, 10.0, 0.5)) < 0.02  # little effect


def test_sample_task_shapes_seed_and_noise_scale():
    teacher, data = g.sample_task([2.0, 1.0], 300, 150, seed=3)
    again, _ = g.sample_task([2.0, 1.0], 300, 150, seed=3)
    assert teacher.shape == data.shape == (150, 300) and np.array_equal(teacher, again)
    assert np.allclose(np.linalg.svd(teacher, compute_uv=False)[:2], [2.0, 1.0])
    assert np.var(data - teacher) == pytest.approx(1 / 300, rel=0.02)
    assert data.dtype == np.float64


@pytest.mark.parametrize("call, name", [
    (lambda: g.data_singular_value(-1.0), "s_bar"),
    (lambda: g.overlap(np.nan), "s_bar"),
    (lambda: g.data_singular_value(2.0, A=0.0), "A"),
    (lambda: g.marchenko_pastur(1.0, A=1.5), "A"),
    (lambda: g.marchenko_pastur(1.0, A=np.nan), "A"),
    (lambda: g.estimate_s_bar([2.0, np.nan]), "s_hat"),
    (lambda: g.error_curves([-3.0], [0.0, 1.0]), "s_bars"),
    (lambda: g.error_curves([3.0], [0.0, np.nan]), "t"),
    (lambda: g.error_curves([3.0], [0.0, 1.0], n_in=50, n_out=100), "n_out"),
    (lambda: g.error_curves([0.0], [0.0, 1.0]), "s_bars"),
    (lambda: g.optimal_stopping([3.0], a0=0.0), "a0"),
    (lambda: g.optimal_stopping([3.0], tau=-1.0), "tau"),
    (lambda: g.shrinkage_test_error([3.0], A=2.0), "A"),
    (lambda: g.optimal_shrinkage(np.ones((5, 3))), "sigma_yx"),
    (lambda: g.optimal_shrinkage(np.full((2, 3), np.nan)), "sigma_yx"),
    (lambda: g.transfer_benefit(3.0, 3.0, 1.5), "q"),
    (lambda: g.transfer_benefit(-3.0, 3.0, 0.5), "s_bar_a"),
    (lambda: g.transfer_benefit(3.0, 3.0, 0.5, n_in=50, n_out=50), "n_out"),
    (lambda: g.sample_task([1.0, 2.0, 3.0], 10, 2), "s_bars"),
])
def test_bad_inputs_raise_value_errors_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_non_numbers_raise_type_errors():
    with pytest.raises(TypeError, match="A"):
        g.overlap(2.0, A="half")
    with pytest.raises(TypeError, match="q"):
        g.transfer_benefit(3.0, 3.0, "aligned")


def test_examples_carry_the_data_and_the_noise_shrinks_with_p():
    teacher, data = g.sample_task([2.0], 60, 30, seed=4)
    X, Y = g.one_hot_examples(data)
    assert np.allclose(Y.T @ X / X.shape[0], data) and np.allclose(X.T @ X / X.shape[0], np.eye(60))
    teacher, X, Y = g.sample_examples([2.0], 60, 30, 240, seed=4)
    assert np.allclose(X.T @ X / 240, np.eye(60))
    assert np.var(Y.T @ X / 240 - teacher) == pytest.approx(1 / 240, rel=0.05)


def test_simulated_aligned_student_starts_at_a0_and_learns_the_data():
    teacher, data = g.sample_task([3.0], 40, 20, seed=5)
    run = g.simulate_student(teacher, *g.one_hot_examples(data), t_max=12.0, a0=1e-4,
                             lr=0.02, n_records=20)
    assert run.t[-1] == pytest.approx(12.0) and run.product.shape == (21, 20, 40)
    assert np.linalg.svd(run.product[0], compute_uv=False).max() == pytest.approx(1e-4, rel=1e-3)
    assert run.test[0] == pytest.approx(1.0, abs=1e-3) and run.train[-1] < 0.05


@pytest.mark.parametrize("call, name", [
    (lambda: g.simulate_student(np.ones((3, 4)), np.eye(5), np.ones((5, 2)), t_max=1.0), "teacher"),
    (lambda: g.simulate_student(np.ones((2, 5)), np.eye(5), np.ones((5, 2)), t_max=0.0), "t_max"),
    (lambda: g.sample_examples([1.0], 10, 5, 4), "n_examples"),
    (lambda: g.one_hot_examples(np.full((2, 3), np.inf)), "data"),
])
def test_simulation_inputs_are_checked(call, name):
    with pytest.raises(ValueError, match=name):
        call()
