"""Unit tests for neurotheory.deeplinear: closed forms, data, SVD view, training, representations."""

import numpy as np
import pytest

from neurotheory import deeplinear as dl


# ----------------------------------------------------------------------------- closed forms

def test_mode_strength_limits_and_broadcasting():
    s = np.array([0.5, 1.0, 3.0])
    a0 = np.array([1e-4, 1e-3, 1e-2])
    assert np.allclose(dl.mode_strength(0.0, s, a0), a0, rtol=1e-12)
    assert np.allclose(dl.mode_strength(1e4, s, a0), s, rtol=1e-12)
    t = np.linspace(0, 20, 7)[:, None]
    a = dl.mode_strength(t, s, a0)
    assert a.shape == (7, 3)
    assert np.all(np.diff(a, axis=0) >= 0) and np.all(a <= s)   # monotone rise from a0 to s


def test_mode_strength_solves_its_ode():
    t = np.linspace(0.0, 6.0, 2001)
    s, a0, tau = 1.7, 1e-3, 0.8
    a = dl.mode_strength(t, s, a0, tau)
    dadt = np.gradient(a, t)
    assert np.allclose(tau * dadt, 2 * a * (s - a), atol=2e-3 * s)


def test_half_learning_time_closed_form():
    s, a0, tau = np.array([0.5, 2.0]), 1e-3, 2.0
    t_half = dl.half_learning_time(s, a0, tau=tau)
    assert np.allclose(dl.mode_strength(t_half, s, a0, tau), s / 2, rtol=1e-10)
    assert np.allclose(t_half, tau / (2 * s) * np.log(s / a0 - 1))


def test_shallow_mode_strength_is_exponential():
    t = np.array([0.0, 1.0, 50.0])
    a = dl.shallow_mode_strength(t, 2.0, 0.0)
    assert np.allclose(a, [0.0, 2.0 * (1 - np.exp(-1.0)), 2.0])


@pytest.mark.parametrize("n_hidden_layers", [0, 1])
def test_deep_mode_strength_matches_closed_forms(n_hidden_layers):
    t = np.linspace(0.0, 8.0, 9)[:, None]
    s, a0 = np.array([0.6, 1.5]), np.array([1e-3, 1e-2])
    exact = (dl.shallow_mode_strength if n_hidden_layers == 0 else dl.mode_strength)(t, s, a0)
    assert np.allclose(dl.deep_mode_strength(t, s, a0, n_hidden_layers), exact, rtol=1e-6, atol=1e-9)


def test_deep_half_learning_time_matches_integration():
    s, a0 = np.array([0.8, 2.0]), np.array([1e-3, 1e-3])
    for n_hidden_layers in (0, 2, 3):
        t_half = dl.half_learning_time(s, a0, n_hidden_layers)
        a = dl.deep_mode_strength(t_half, s, a0, n_hidden_layers, n_steps=4000)
        assert np.allclose(a, s / 2, rtol=1e-5)
    # a = s·b turns τ da/dt = N a^{2−2/N}(s − a) into one equation for b with time s^{2−2/N} t
    for n_hidden_layers in (1, 3):
        n = n_hidden_layers + 1
        scaled = dl.half_learning_time(s, 1e-3 * s, n_hidden_layers) * s ** (2 - 2 / n)
        assert scaled[0] == pytest.approx(scaled[1], rel=1e-10)


def test_closed_form_argument_errors():
    with pytest.raises(ValueError, match="t"):
        dl.mode_strength(-1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="s"):
        dl.mode_strength(1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="a0"):
        dl.mode_strength(1.0, 1.0, -0.1)
    with pytest.raises(ValueError, match="NaN"):
        dl.mode_strength(np.nan, 1.0, 0.1)
    with pytest.raises(ValueError, match="tau"):
        dl.mode_strength(1.0, 1.0, 0.1, tau=0)
    with pytest.raises(TypeError, match="n_hidden_layers"):
        dl.deep_mode_strength(1.0, 1.0, 0.1, n_hidden_layers=1.5)
    with pytest.raises(ValueError, match="a0"):
        dl.half_learning_time(1.0, 0.6)


# ----------------------------------------------------------------------------- data

def test_eight_items():
    data = dl.eight_items()
    assert data.items == ("canary", "robin", "salmon", "sunfish", "oak", "pine", "rose", "daisy")
    assert data.X.shape == (8, 8) and data.Y.shape == (8, len(data.features))
    assert np.allclose(data.X.T @ data.X / 8, np.eye(8))          # whitened: Σ_x = I
    Y = dict(zip(data.features, data.Y.T))
    assert Y["has leaves"][data.items.index("pine")] == 0
    assert Y["can fly"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]


def test_eight_items_modes_are_the_hierarchy():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    assert np.all(np.diff(modes.s) < 0) and np.min(-np.diff(modes.s) / modes.s[1:]) > 0.1
    v = modes.V.T
    assert np.all(v[0] > 0)                                         # mode 1: all items alike
    assert np.all(v[1, :4] > 0) and np.all(v[1, 4:] < 0)            # mode 2: animals vs plants
    assert np.all(v[2, :2] > 0) and np.all(v[2, 2:4] < 0)           # mode 3: birds vs fish
    assert np.abs(v[2, 4:]).max() < 0.05


def test_branching_diffusion_statistics():
    depth, branching, flip = 2, 3, 0.2
    Y = dl.branching_diffusion(depth, branching, 20000, flip, seed=1)
    assert Y.shape == (9, 20000) and set(np.unique(Y)) == {-1.0, 1.0}
    C = Y @ Y.T / Y.shape[1]
    rho2 = (1 - 2 * flip) ** 2
    assert C[0, 1] == pytest.approx(rho2, abs=0.03)                # siblings: two edges apart
    assert C[0, 3] == pytest.approx(rho2 ** 2, abs=0.03)           # cousins: four edges apart
    assert np.array_equal(Y, dl.branching_diffusion(depth, branching, 20000, flip, seed=1))


def test_hierarchy_singular_values_match_exact_covariance_and_samples():
    depth, branching, flip, n_features = 3, 2, 0.1, 4000
    s, multiplicity = dl.hierarchy_singular_values(depth, branching, flip, n_features)
    assert multiplicity.tolist() == [1, 1, 2, 4] and np.all(np.diff(s) < 0)
    expected = np.repeat(s, multiplicity)
    data = dl.hierarchical_data(depth, branching, n_features, flip, seed=0)
    sampled = dl.input_output_modes(data.X, data.Y).s
    assert np.allclose(sampled, expected, rtol=0.06)
    # the leading item vectors are the tree levels: constant, then the root's two halves
    V = dl.input_output_modes(data.X, data.Y).V
    assert np.all(V[:, 0] > 0)
    assert np.all(np.sign(V[:4, 1]) == np.sign(V[0, 1])) and np.all(np.sign(V[4:, 1]) == -np.sign(V[0, 1]))
    assert data.items[5] == "1.0.1" and data.categories[5] == ("1", "1.0")


def test_data_argument_errors():
    with pytest.raises(ValueError, match="branching"):
        dl.branching_diffusion(2, 1, 10, 0.1)
    with pytest.raises(ValueError, match="flip"):
        dl.branching_diffusion(2, 2, 10, 0.7)
    with pytest.raises(TypeError, match="depth"):
        dl.hierarchical_data(depth=2.0)
    with pytest.raises(TypeError, match="seed"):
        dl.branching_diffusion(2, 2, 10, 0.1, seed="0")
    with pytest.raises(ValueError, match="zero"):
        dl.input_output_modes(np.eye(4), np.zeros((4, 3)))


# ----------------------------------------------------------------------------- training

def test_train_deep_linear_shapes_and_time():
    data = dl.eight_items()
    run = dl.train_deep_linear(data.X, data.Y, 16, lr=0.05, steps=100, init_scale=0.01,
                               n_hidden_layers=2, record_every=25)
    assert run.t.tolist() == pytest.approx([0.0, 1.25, 2.5, 3.75, 5.0])
    assert run.product.shape == (5, data.Y.shape[1], 8)
    assert [w.shape for w in run.weights] == [(5, 16, 8), (5, 16, 16), (5, data.Y.shape[1], 16)]
    assert np.allclose(run.product, run.weights[2] @ run.weights[1] @ run.weights[0], atol=1e-6)
    assert np.all(np.isfinite(run.loss)) and run.loss[-1] < run.loss[0]
    assert np.std(run.weights[0][0]) == pytest.approx(0.01, rel=0.2)


def test_train_deep_linear_reaches_the_least_squares_solution():
    data = dl.eight_items()
    run = dl.train_deep_linear(data.X, data.Y, 12, lr=0.1, steps=600, init_scale=0.1, record_every=600)
    sigma_yx = data.Y.T @ data.X / 8
    assert np.allclose(run.product[-1], sigma_yx, atol=1e-3)      # W_tot → Σ_yx Σ_x⁻¹


def test_train_shallow_network_is_exponential():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    run = dl.train_deep_linear(data.X, data.Y, 1, lr=0.01, steps=300, init_scale=1e-4,
                               n_hidden_layers=0, record_every=30)
    a = dl.mode_strengths(run.product, modes)
    theory = dl.shallow_mode_strength(run.t[:, None], modes.s, 0.0)
    assert np.abs(a - theory).max() < 0.01 * modes.s.max()


def test_decoupled_weights_follow_deep_theory_exactly():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    a0 = 1e-3 * np.ones_like(modes.s)
    for n_hidden_layers in (1, 3):
        weights = dl.decoupled_weights(modes, 10, a0, n_hidden_layers, seed=2)
        run = dl.train_deep_linear(data.X, data.Y, 10, lr=0.005, steps=1200, init_scale=0.0,
                                   n_hidden_layers=n_hidden_layers, record_every=120,
                                   initial_weights=weights)
        a = dl.mode_strengths(run.product, modes)
        assert np.allclose(a[0], a0, rtol=1e-4)
        theory = dl.deep_mode_strength(run.t[:, None], modes.s, a0, n_hidden_layers)
        assert np.abs(a - theory).max() < 0.02 * modes.s.max()


def test_training_argument_errors():
    data = dl.eight_items()
    X, Y = data.X, data.Y
    with pytest.raises(ValueError, match="rows"):
        dl.train_deep_linear(X[:4], Y, 4, lr=0.1, steps=10, init_scale=0.1)
    with pytest.raises(ValueError, match="lr"):
        dl.train_deep_linear(X, Y, 4, lr=-0.1, steps=10, init_scale=0.1)
    with pytest.raises(TypeError, match="hidden"):
        dl.train_deep_linear(X, Y, 4.0, lr=0.1, steps=10, init_scale=0.1)
    with pytest.raises(ValueError, match="init_scale"):
        dl.train_deep_linear(X, Y, 4, lr=0.1, steps=10, init_scale=0.0)
    with pytest.raises(ValueError, match="record_every"):
        dl.train_deep_linear(X, Y, 4, lr=0.1, steps=10, init_scale=0.1, record_every=3)
    with pytest.raises(ValueError, match="X"):
        dl.train_deep_linear(X[0], Y, 4, lr=0.1, steps=10, init_scale=0.1)
    with pytest.raises(ValueError, match="NaN"):
        dl.train_deep_linear(np.full_like(X, np.nan), Y, 4, lr=0.1, steps=10, init_scale=0.1)
    with pytest.raises(ValueError, match=r"initial_weights\[0\]"):
        dl.train_deep_linear(X, Y, 4, lr=0.1, steps=10, init_scale=0.1,
                             initial_weights=[np.zeros((3, 8)), np.zeros((Y.shape[1], 4))])
    with pytest.raises(FloatingPointError, match="lr"):
        dl.train_deep_linear(X, Y, 4, lr=5.0, steps=200, init_scale=0.5)


# ----------------------------------------------------------------------------- SVD view and representations

def test_initial_mode_strength_predicts_the_early_growth():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    run = dl.train_deep_linear(data.X, data.Y, 64, lr=0.005, steps=400, init_scale=1e-3, record_every=400)
    a0 = dl.initial_mode_strength([w[0] for w in run.weights], modes)
    a = dl.mode_strengths(run.product[-1], modes)                 # still early: t = 2 τ
    assert np.allclose(a, dl.mode_strength(run.t[-1], modes.s, a0), rtol=0.1)
    with pytest.raises(ValueError, match="weights"):
        dl.initial_mode_strength([w[0] for w in run.weights][:1], modes)


def test_product_from_modes_inverts_mode_strengths():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    assert np.allclose(dl.product_from_modes(modes.s, modes), data.Y.T @ data.X / 8, atol=1e-12)
    a = np.random.default_rng(0).random((3, modes.s.size))
    assert np.allclose(dl.mode_strengths(dl.product_from_modes(a, modes), modes), a)
    with pytest.raises(ValueError, match="product"):
        dl.mode_strengths(np.zeros((3, 3)), modes)
    with pytest.raises(TypeError, match="modes"):
        dl.mode_strengths(np.zeros((3, 3)), (modes.U, modes.s, modes.V))


def test_representations_and_inductive_projection():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    weights = dl.decoupled_weights(modes, 12, modes.s, seed=3)    # the trained, balanced state
    h = dl.hidden_representations(weights, data.X)
    S = dl.similarity_matrix(h)
    assert np.allclose(S, dl.predicted_similarity(modes, modes.s, data.X), atol=1e-9)
    projection = dl.inductive_projection(S, 0)
    assert projection[0] == pytest.approx(1.0)
    assert projection[1] > projection[2] > projection[4]           # canary → robin, then fish, then plants
    assert dl.similarity_correlation(S, 2 * S + 1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="item"):
        dl.inductive_projection(S, 8)
    with pytest.raises(ValueError, match="layer"):
        dl.hidden_representations(weights, data.X, layer=2)
    with pytest.raises(ValueError, match="square"):
        dl.similarity_correlation(S, S[:4])


def test_birds_and_fish_grade_category_membership():
    typ = dl.birds_and_fish()
    assert typ.X.shape == (8, 8) and typ.Y.shape == (8, 11)
    bird_counts = typ.Y[:4, :6].sum(axis=1)
    np.testing.assert_array_equal(bird_counts, [6, 5, 3, 3])
    assert typ.Y[typ.items.index("penguin"), typ.features.index("can swim")] == 1
    assert [c[-1] for c in typ.categories] == ["bird"] * 4 + ["fish"] * 4


# ----------------------------------------------------------------------------- noise and forms

@pytest.mark.parametrize("shape", [(300, 200), (200, 300)])
def test_noisy_mode_matches_sampled_spikes(shape):
    """ŝ and both overlaps of θ u vᵀ + σG against the SVD of samples (Benaych-Georges–Nadakuditi)."""
    sigma = 0.5
    threshold = dl.noise_threshold(shape, sigma)
    assert threshold == pytest.approx(sigma * (shape[0] * shape[1]) ** 0.25)
    u = np.ones(shape[0]) / np.sqrt(shape[0])
    v = np.r_[np.ones(20), np.zeros(shape[1] - 20)] / np.sqrt(20)
    rng = np.random.default_rng(0)
    for ratio in (0.5, 2.0):
        sampled = []
        for _ in range(4):
            Us, s, Vt = np.linalg.svd(ratio * threshold * np.outer(u, v)
                                      + sigma * rng.standard_normal(shape))
            sampled.append((s[0], (Us[:, 0] @ u) ** 2, (Vt[0] @ v) ** 2))
        s_hat, rows, cols = dl.noisy_mode(ratio * threshold, shape, sigma)
        measured = np.mean(sampled, axis=0)
        assert measured[0] == pytest.approx(s_hat, rel=0.03)
        assert np.allclose(measured[1:], [rows, cols], atol=0.06), (ratio, measured, rows, cols)
    assert dl.noisy_mode(0.5 * threshold, shape, sigma)[0] == pytest.approx(
        sigma * (np.sqrt(shape[0]) + np.sqrt(shape[1])))          # stuck at the bulk edge
    with pytest.raises(ValueError, match="shape"):
        dl.noise_threshold((3,), 1.0)
    with pytest.raises(ValueError, match="noise"):
        dl.noisy_mode(1.0, shape, 0.0)


def test_noisy_category_places_a_block_in_noise():
    world = dl.noisy_category(30, 40, 5, 8, 2.0, 0.0, seed=1)
    assert world.X.shape == (30, 30) and world.Y.shape == (30, 40)
    assert np.all(world.Y[:5, :8] == 2.0) and world.Y.sum() == 2.0 * 5 * 8
    assert world.categories[4] == ("category",) and world.categories[5] == ("other",)
    noisy = dl.noisy_category(30, 40, 5, 8, 2.0, 1.0, seed=1)
    assert np.std(noisy.Y[5:]) == pytest.approx(1.0, rel=0.1)
    with pytest.raises(ValueError, match="fit"):
        dl.noisy_category(30, 40, 31, 8, 2.0, 1.0)


def test_structural_forms_and_their_modes():
    degrees = {form: dl.structural_form(form, 16).sum(axis=1) for form in
               ("clusters", "chain", "ring", "grid")}
    assert np.all(degrees["clusters"] == 3) and np.all(degrees["ring"] == 2)
    assert sorted(set(degrees["chain"])) == [1, 2] and sorted(set(degrees["grid"])) == [2, 3, 4]
    s, V = dl.expected_modes(dl.form_covariance(dl.structural_form("ring", 16), 4.0), 100)
    assert s[0] == pytest.approx(np.sqrt(100 * 4.0 / 16)) and s[1] == pytest.approx(s[2])
    one_cycle = np.cos(2 * np.pi * np.arange(16) / 16)
    one_cycle /= np.linalg.norm(one_cycle)
    assert np.sum((V[:, 1:3].T @ one_cycle) ** 2) == pytest.approx(1.0)   # Fourier modes
    _, V = dl.expected_modes(dl.form_covariance(dl.structural_form("clusters", 16)), 100)
    assert np.allclose(np.ptp(V[:, :4].reshape(4, 4, 4), axis=1), 0, atol=1e-9)  # indicators
    covariance = dl.form_covariance(dl.structural_form("grid", 16))
    world = dl.gaussian_features(covariance, 20000, seed=0)
    assert np.allclose(world.Y @ world.Y.T / 20000, covariance, atol=0.05)
    sampled = dl.input_output_modes(world.X, world.Y).s
    assert np.allclose(sampled, dl.expected_modes(covariance, 20000)[0], rtol=0.05)
    with pytest.raises(ValueError, match="form"):
        dl.structural_form("tree", 16)
    with pytest.raises(ValueError, match="square"):
        dl.structural_form("grid", 15)
    with pytest.raises(ValueError, match="n_clusters"):
        dl.structural_form("clusters", 15)
    with pytest.raises(ValueError, match="adjacency"):
        dl.form_covariance(np.triu(np.ones((4, 4)), 1))
    with pytest.raises(ValueError, match="covariance"):
        dl.gaussian_features(-np.eye(3), 10)


def test_novel_item_projection_follows_the_feature_similarity():
    data = dl.eight_items()
    modes = dl.input_output_modes(data.X, data.Y)
    weights = dl.decoupled_weights(modes, 12, modes.s, seed=3)    # the trained, balanced state
    feature_similarity = dl.similarity_matrix(weights[1])          # W₂W₂ᵀ
    assert np.allclose(feature_similarity, dl.predicted_feature_similarity(modes, modes.s),
                       atol=1e-9)
    told = [data.features.index("has feathers"), data.features.index("can fly")]
    projection = dl.inductive_projection(feature_similarity, told)
    assert projection[told].mean() == pytest.approx(1.0)
    assert projection[data.features.index("has wings")] > 0.9         # the birds' properties
    assert projection[data.features.index("has gills")] < 0            # not the fish's
    with pytest.raises(ValueError, match="item"):
        dl.inductive_projection(feature_similarity, [])
    with pytest.raises(ValueError, match="layer"):
        dl.predicted_feature_similarity(modes, modes.s, layer=1, n_hidden_layers=0)
