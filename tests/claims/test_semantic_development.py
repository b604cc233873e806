"""Headline claims of Saxe, McClelland & Ganguli (PNAS 2019), checked at quick scale.

One-hidden-layer linear networks learn the eight classic items (Rumelhart & Todd) from small
random weights (standard deviation 1e-3, widths 64 and 32) by full-batch gradient descent
with lr = 0.005 up to t = 40 τ.
"""

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


def test_modes_are_learned_in_order_in_time_inversely_proportional_to_s(runs, modes):
    """Half-learning times increase as s decreases, and t½·s is the same for all modes within 20%."""
    run = runs[64]
    a = dl.mode_strengths(run.product, modes) / modes.s
    t_half = np.array([np.interp(0.5, a[:, k], run.t) for k in range(modes.s.size)])
    assert np.all(np.diff(t_half) > 0), f"half-learning times {np.round(t_half, 2)} not in order of s"
    scaled = t_half * modes.s
    assert np.all(np.abs(scaled / scaled.mean() - 1) < 0.2), f"t½·s = {np.round(scaled, 2)}"


def test_hidden_similarity_is_conserved_across_networks(runs, data, modes):
    """Networks of different width and initialisation end with the same item similarity matrix."""
    final = {hidden: dl.similarity_matrix(dl.hidden_representations([w[-1] for w in run.weights], data.X))
             for hidden, run in runs.items()}
    assert dl.similarity_correlation(final[64], final[32]) > 0.99
    predicted = dl.predicted_similarity(modes, modes.s, data.X)
    assert dl.similarity_correlation(final[64], predicted) > 0.99
