"""Headline claims of Saxe, McClelland & Ganguli (PNAS 2019), checked at quick scale.

One-hidden-layer linear networks learn the eight classic items (Rumelhart & Todd) from small
random weights (standard deviation 1e-3, widths 64 and 32) by full-batch gradient descent
with lr = 0.005 up to t = 40 τ. A category buried in noise is learned by width-32 networks on
200 items × 300 properties.
"""

import functools

import numpy as np
import pytest

from neurotheory import deeplinear as dl

INIT_SCALE = 1e-3
LR = 0.005
STEPS = 8000          # t = LR · STEPS = 40 τ: every mode, even the weakest, is learned
RECORD_EVERY = 40


@pytest.fixture(scope="module")
def data():
    return dl.eight_items()


@pytest.fixture(scope="module")
def modes(data):
    return dl.input_output_modes(data.X, data.Y)


@pytest.fixture(scope="module")
def runs(data):
    return {hidden: dl.train_deep_linear(data.X, data.Y, hidden, lr=LR, steps=STEPS,
                                         init_scale=INIT_SCALE, seed=seed, record_every=RECORD_EVERY)
            for hidden, seed in ((64, 0), (32, 1))}


def test_mode_strengths_follow_the_closed_form(runs, modes):
    """Every mode's simulated strength tracks a(t) = s e^{2st/τ}/(e^{2st/τ} − 1 + s/a₀) within 5% of s."""
    run = runs[64]
    a = dl.mode_strengths(run.product, modes)
    a0 = dl.initial_mode_strength([w[0] for w in run.weights], modes)
    theory = dl.mode_strength(run.t[:, None], modes.s, a0)
    worst = np.abs(a - theory).max(axis=0) / modes.s
    assert np.all(worst < 0.05), f"worst error / s per mode: {np.round(worst, 3)}"
    assert np.allclose(a[-1], modes.s, rtol=0.01)                  # all modes fully learned


def test_modes_are_learned_in_order_at_the_predicted_half_learning_times(runs, modes):
    """Half-learning times increase as s decreases and match t½ = (τ/2s) ln(s/a₀ − 1) within 3%."""
    run = runs[64]
    a = dl.mode_strengths(run.product, modes) / modes.s
    t_half = np.array([np.interp(0.5, a[:, k], run.t) for k in range(modes.s.size)])
    assert np.all(np.diff(t_half) > 0), f"half-learning times {np.round(t_half, 2)} not in order of s"
    a0 = dl.initial_mode_strength([w[0] for w in run.weights], modes)
    predicted = dl.half_learning_time(modes.s, a0)
    error = np.abs(t_half / predicted - 1)
    assert np.all(error < 0.03), f"relative t½ errors {np.round(error, 4)}"


def y_hat(run, data):
    """Network outputs for every item at every record: (records, items, properties)."""
    return data.X @ np.swapaxes(run.product, -1, -2)


@pytest.mark.parametrize("item, prop", [("pine", "has leaves"), ("oak", "can move"), ("salmon", "can fly")])
def test_illusory_correlations_appear_and_vanish(runs, data, item, prop):
    """An item that lacks a property is transiently credited with it (ŷ > 0.1), then not (|ŷ| < 0.02)."""
    y = y_hat(runs[64], data)[:, data.items.index(item), data.features.index(prop)]
    assert data.Y[data.items.index(item), data.features.index(prop)] == 0
    assert y.max() > 0.1 and abs(y[-1]) < 0.02, f"peak {y.max():.3f}, final {y[-1]:.3f}"


def distance(S, data, a, b):
    i, j = data.items.index(a), data.items.index(b)
    return np.sqrt(np.maximum(S[:, i, i] + S[:, j, j] - 2 * S[:, i, j], 0.0))


def test_animals_and_plants_split_before_birds_and_fish(runs, data):
    """The canary–oak distance reaches half its final value before the canary–salmon distance does."""
    run = runs[64]
    S = dl.similarity_matrix(dl.hidden_representations(run.weights, data.X))
    half = {pair: np.interp(0.5, (d := distance(S, data, *pair)) / d[-1], run.t)
            for pair in (("canary", "oak"), ("canary", "salmon"), ("canary", "robin"))}
    times = list(half.values())
    assert times[0] < times[1] < times[2], f"half-separation times {half}"


def test_inductive_projection_narrows_over_development(runs, data):
    """A novel fact about the canary first reaches plants as much as birds, and in the end mostly birds."""
    run = runs[64]
    S = dl.similarity_matrix(dl.hidden_representations(run.weights, data.X))
    projection = dl.inductive_projection(S, data.items.index("canary"))
    oak, robin, salmon = (projection[:, data.items.index(item)] for item in ("oak", "robin", "salmon"))
    early = np.argmax(oak > 0.5)                        # the first record where the oak gets it too
    assert oak[early] > 0.5 and abs(oak[-1]) < 0.1
    assert robin[-1] > salmon[-1] > oak[-1]


def test_novel_item_projection_narrows_over_development(runs, data):
    """A new item said to have feathers is at first credited with gills too (ŷ > 0.5), in the
    end not (ŷ < 0), while it keeps "can fly" (ŷ > 0.9): the feature similarity W₂W₂ᵀ narrows."""
    W2 = runs[64].weights[1]
    projection = dl.inductive_projection(dl.similarity_matrix(W2),
                                         [data.features.index("has feathers")])
    gills, fly = (projection[:, data.features.index(f)] for f in ("has gills", "can fly"))
    assert gills.max() > 0.5 and gills[-1] < 0, f"gills peak {gills.max():.2f}, end {gills[-1]:.2f}"
    assert fly[-1] > 0.9


# Category coherence: a category of K_o × K_f in N_o items × N_f properties with unit noise.
N_ITEMS, N_FEATURES, K_ITEMS, K_FEATURES, SIGMA = 200, 300, 20, 30, 1.0
NOISE_YX = SIGMA / np.sqrt(N_ITEMS)                           # Σ_yx = Yᵀ/√P
S_C = dl.noise_threshold((N_FEATURES, N_ITEMS), NOISE_YX)     # σ (N_o N_f)^{1/4} / √P
NOISE_EDGE = NOISE_YX * (np.sqrt(N_ITEMS) + np.sqrt(N_FEATURES))


@functools.lru_cache(maxsize=None)
def learned_overlap(s: float, seed: int) -> float:
    """(v̂₁ · v_category)² for the first item vector a network learns (at t = 8 τ) when the
    category's singular value in Σ_yx is s."""
    strength = s * np.sqrt(N_ITEMS / (K_ITEMS * K_FEATURES))
    world = dl.noisy_category(N_ITEMS, N_FEATURES, K_ITEMS, K_FEATURES, strength, SIGMA, seed=seed)
    run = dl.train_deep_linear(world.X, world.Y, 32, lr=0.02, steps=400, init_scale=INIT_SCALE,
                               seed=seed, record_every=400)
    first = np.linalg.svd(run.product[-1])[2][0]
    return float(first[:K_ITEMS].sum() ** 2 / K_ITEMS)


def mean_overlap(s: float) -> float:
    return float(np.mean([learned_overlap(float(s), seed) for seed in range(3)]))


def learned_only_above(threshold: float) -> bool:
    """Below 0.6·threshold the network's first item vector misses the category (overlap < 0.1),
    above 1.6·threshold it finds it (overlap > 0.4), over three noise draws."""
    return mean_overlap(0.6 * threshold) < 0.1 and mean_overlap(1.6 * threshold) > 0.4


def test_a_category_is_learned_only_above_the_random_matrix_threshold():
    """Learning starts at s_c = σ(N_o N_f)^{1/4}, with the overlap random-matrix theory predicts
    (within 0.1), although 1.6 s_c is still below the largest noise singular value."""
    assert 1.6 * S_C < NOISE_EDGE
    assert learned_only_above(S_C)
    predicted = float(dl.noisy_mode(1.6 * S_C, (N_FEATURES, N_ITEMS), NOISE_YX)[2])
    assert abs(mean_overlap(1.6 * S_C) - predicted) < 0.1, (mean_overlap(1.6 * S_C), predicted)


@pytest.mark.parametrize("alternative", ["noise edge", "half the threshold"])
def test_of_the_test_other_thresholds_fail(alternative):
    """The criterion rejects the nearest other explanations: a category must beat the largest
    noise singular value σ(√N_o + √N_f)/√P (≈ 2 s_c), or any signal above s_c/2 is learned."""
    threshold = NOISE_EDGE if alternative == "noise edge" else S_C / 2
    assert not learned_only_above(threshold)


def test_conservation_needs_small_initial_weights(data, modes):
    """Large random initial weights leave a trace that learning never removes."""
    predicted = dl.predicted_similarity(modes, modes.s, data.X)
    correlation = {}
    for scale in (INIT_SCALE, 0.3):
        run = dl.train_deep_linear(data.X, data.Y, 64, lr=LR, steps=STEPS, init_scale=scale, seed=3,
                                   record_every=STEPS)
        correlation[scale] = dl.similarity_correlation(
            dl.similarity_matrix(dl.hidden_representations([w[-1] for w in run.weights], data.X)), predicted)
    assert correlation[INIT_SCALE] > 0.99 and correlation[0.3] < 0.7, correlation


def test_hidden_similarity_is_conserved_across_networks(runs, data, modes):
    """Networks of different width and initialisation end with the same item similarity matrix."""
    final = {hidden: dl.similarity_matrix(dl.hidden_representations([w[-1] for w in run.weights], data.X))
             for hidden, run in runs.items()}
    assert dl.similarity_correlation(final[64], final[32]) > 0.99
    predicted = dl.predicted_similarity(modes, modes.s, data.X)
    assert dl.similarity_correlation(final[64], predicted) > 0.99


def bird_recognition_times(Y):
    """When each bird's bird-likeness uᵀŷᵢ(t) first reaches half the robin's final value
    (interpolated between records), for items and properties laid out as in birds_and_fish."""
    typ = dl.birds_and_fish()
    typ_modes = dl.input_output_modes(typ.X, Y)
    bird = int(np.argmax(np.abs(typ_modes.V[:4].mean(0) - typ_modes.V[4:].mean(0))))
    run = dl.train_deep_linear(typ.X, Y, 64, lr=LR, steps=STEPS, init_scale=INIT_SCALE, seed=0,
                               record_every=RECORD_EVERY)
    sign = np.sign(typ_modes.V[0, bird])
    likeness = sign * (typ.X @ np.swapaxes(run.product, -1, -2)) @ typ_modes.U[:, bird]   # (records, items)
    threshold = 0.5 * likeness[-1, typ.items.index("robin")]

    def crossing(y):
        k = int(np.argmax(y > threshold))
        return np.interp(threshold, y[k - 1:k + 1], run.t[k - 1:k + 1]) if y[k] > threshold else np.inf

    return {item: crossing(likeness[:, typ.items.index(item)]) for item in ("robin", "sparrow", "ostrich")}


def ordered_by_typicality(first, margin=0.02):
    """Robin, then sparrow, then ostrich, each at least ``margin`` τ after the one before."""
    return (first["sparrow"] - first["robin"] > margin and first["ostrich"] - first["sparrow"] > margin
            and np.isfinite(first["ostrich"]))


def test_typical_birds_are_recognised_as_birds_first():
    """Bird-likeness crosses half the robin's final value first for the robin, then the sparrow,
    then the ostrich (which gets there too), each at least 0.02 τ apart."""
    first = bird_recognition_times(dl.birds_and_fish().Y)
    assert ordered_by_typicality(first), first


def test_of_the_test_equally_typical_birds_are_not_ordered():
    """With the sparrow given all the robin's properties the same criterion fails (they tie)."""
    typ = dl.birds_and_fish()
    Y = typ.Y.copy()
    Y[typ.items.index("sparrow")] = Y[typ.items.index("robin")]
    first = bird_recognition_times(Y)
    assert not ordered_by_typicality(first), first
