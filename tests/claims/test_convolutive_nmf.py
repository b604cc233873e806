"""Headline claims of the convolutive NMF chapter (Degleris et al. 2019), at quick scale."""

import numpy as np
import pytest

from neurotheory import cnmf

# The paper's noisy synthetic benchmark: dense, overlapping sequences under strong noise.
NOISY = dict(n_neurons=100, n_components=3, n_lags=20, n_time=1000, event_rate=0.5, width=0.2, noise=1.0,
             seed=0)
# Clean sequences for motif recovery.
CLEAN = dict(n_neurons=100, n_components=3, n_lags=20, n_time=1000, event_rate=0.1, noise=0.0, seed=1)


@pytest.fixture(scope="module")
def noisy_fits():
    data = cnmf.synthetic_sequences(**NOISY)
    return {method: [cnmf.fit(data.X, 3, 20, method=method, max_iter=100, tol=0.0, seed=seed)
                     for seed in (0, 1)]
            for method in cnmf.METHODS}


@pytest.mark.parametrize("method", cnmf.METHODS)
def test_loss_never_increases(noisy_fits, method):
    for result in noisy_fits[method]:
        trace = np.concatenate([[result.initial_loss], result.loss])
        assert np.all(np.diff(trace) <= 1e-5 * trace[:-1]), f"{method}: loss went up"


@pytest.mark.parametrize("method", ["hals", "anls"])
def test_coordinate_methods_reach_mu_loss_in_fewer_iterations(noisy_fits, method):
    for mu, other in zip(noisy_fits["mu"], noisy_fits[method]):
        target = mu.loss[99]
        reached = np.flatnonzero(other.loss <= target)
        assert reached.size, f"{method} never reached MU's 100-iteration loss {target:.4f}"
        assert reached[0] + 1 < 50, f"{method} needed {reached[0] + 1} iterations to reach MU's loss at 100"


def test_planted_motifs_recovered_from_clean_data():
    data = cnmf.synthetic_sequences(**CLEAN)
    fits = [cnmf.fit(data.X, 3, 20, method="hals", max_iter=200, tol=1e-6, seed=seed) for seed in range(3)]
    best = min(fits, key=lambda result: result.loss[-1])
    match = cnmf.motif_similarity(data.W, best.W)
    assert best.loss[-1] < 0.01
    assert match.score > 0.9, f"planted motifs recovered with similarity {match.score:.3f}"
    assert np.all(match.similarity > 0.85)


def test_reconstruct_is_the_sum_over_lags():
    rng = np.random.default_rng(0)
    W = rng.random((7, 9, 4))
    H = rng.random((4, 50))
    direct = sum(np.pad(W[l] @ H, ((0, 0), (l, 0)))[:, :50] for l in range(7))
    np.testing.assert_allclose(cnmf.reconstruct(W, H), direct, rtol=1e-5)
