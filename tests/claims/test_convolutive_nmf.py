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
                     for seed in range(4)]
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


# Disjoint chains of neurons firing in order, rare events, little noise: a landscape with many local minima.
CHAINS = dict(n_neurons=60, n_components=3, n_members=12, n_lags=20, n_time=2000, event_rate=0.01, noise=0.01, seed=0)
STARTS = range(8)


@pytest.fixture(scope="module")
def chains():
    data = cnmf.ordered_sequences(**CHAINS)
    fits = {method: [cnmf.fit(data.X, 3, 20, method=method, max_iter=500, seed=seed) for seed in STARTS]
            for method in cnmf.METHODS}
    return data, fits


def improvement_when_continued(data, result, iterations=100):
    """Fraction by which 100 more HALS iterations (no stopping rule) lower a stopped fit's loss."""
    more = cnmf.fit(data.X, 3, 20, method="hals", max_iter=iterations, tol=0.0, W_init=result.W, H_init=result.H)
    return 1.0 - more.loss[-1] / result.loss[-1]


@pytest.mark.parametrize("method", ["hals", "anls"])
def test_coordinate_methods_stop_sooner_over_many_starts(chains, method):
    _, fits = chains
    mu = np.median([len(r.loss) for r in fits["mu"]])
    other = np.median([len(r.loss) for r in fits[method]])
    assert other <= 0.5 * mu, f"{method} stopped after a median {other} iterations against MU's {mu}"


def test_every_method_stops_in_local_minima_not_short_of_one(chains):
    """Most starts of every method end far above the planted factors' loss, and not because the stopping rule
    cut them short: continuing them barely helps. A run truncated early (the alternative explanation) fails
    the same check."""
    data, fits = chains
    planted = cnmf.relative_loss(data.X, data.W, data.H)
    for method, results in fits.items():
        losses = np.array([r.loss[-1] for r in results])
        assert np.median(losses) > 3 * planted, f"{method}: median start ends at {np.median(losses):.4f}, planted {planted:.4f}"
        assert losses.max() > 1.25 * losses.min(), f"{method}: every start ends alike ({losses.min():.4f}–{losses.max():.4f})"
        gains = [improvement_when_continued(data, r) for r in results]
        assert np.median(gains) < 0.05, f"{method}: continuing the stopped fits lowered the loss by {np.median(gains):.1%}"
    truncated = cnmf.fit(data.X, 3, 20, method="mu", max_iter=5, seed=0)
    assert improvement_when_continued(data, truncated) > 0.05


@pytest.mark.parametrize("method", ["hals", "anls"])
def test_from_one_start_the_fast_methods_often_stop_worse_than_mu(chains, method):
    """At least a quarter of the starts end >5% above MU's loss from the same start, and some end below it."""
    _, fits = chains
    mu = np.array([r.loss[-1] for r in fits["mu"]])
    other = np.array([r.loss[-1] for r in fits[method]])
    worse = np.sum(other > 1.05 * mu)
    assert worse >= len(STARTS) // 4, f"{method} ended >5% worse than MU from only {worse} of {len(STARTS)} starts"
    # a different minimum, not a uniformly worse optimizer: from some starts it ends lower than MU
    assert np.sum(other < mu / 1.05) >= 1, f"{method} never ended below MU from the same start"


def test_reconstruct_is_the_sum_over_lags():
    rng = np.random.default_rng(0)
    W = rng.random((7, 9, 4))
    H = rng.random((4, 50))
    direct = sum(np.pad(W[l] @ H, ((0, 0), (l, 0)))[:, :50] for l in range(7))
    np.testing.assert_allclose(cnmf.reconstruct(W, H), direct, rtol=1e-5)
