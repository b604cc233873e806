"""Headline claims of the tensor AMP chapter (Kadmon & Ganguli 2018), at quick scale.

1. AMP's converged overlaps match state evolution within 0.05, for p = 2 (N ≥ 300 per mode)
   and p = 3 (N = 100 per mode), at three snrs, one below threshold; dropping the Onsager
   term (the nearest other algorithm) fails the same check, for p = 2 and (zero-mean
   Gaussian factors, where the reaction term is not small) for p = 3.
2. The p = 2 threshold of state evolution is the closed form 1/(v₁v₂√(n₁n₂)) = 1 for two
   aspect ratios, and not what a per-mode normalization would give.
3. AMP's overlap beats ALS's (tensorly parafac) on the same p = 3, Gaussian(1) tensors at
   snr 1, also on the tensors where ALS did find the signal (not only because ALS sometimes
   fails outright); the prior mean alone does not pass that check, and at snr 30 the
   advantage is gone (it comes from the noise, not from how overlaps are scored).
"""

import numpy as np
import pytest

from neurotheory import tensor_amp as ta

SEEDS = range(3)
TOLERANCE = 0.05


def converged_overlaps(shape, prior, snr, *, informed, onsager=True):
    """Mean over seeds of AMP's final overlaps, and state evolution from the mean start."""
    finals, starts = [], []
    for seed in SEEDS:
        T, truth = ta.sample(shape, rank=1, snr=snr, prior=prior, seed=seed)
        init = ta.informed_start(truth, prior=prior, strength=1.0, seed=seed) if informed else None
        result = ta.amp(T, snr=snr, rank=1, prior=prior, max_iter=300, truth=truth, init=init,
                        seed=seed, onsager=onsager)
        finals.append(result.overlaps[-1])
        starts.append(result.overlaps[0])
    theory = ta.state_evolution(snr=snr, shape=shape, prior=prior, n_iter=500,
                                m0=np.mean(starts, axis=0))[-1]
    return np.mean(finals, axis=0), theory


@pytest.mark.parametrize("shape", [(300, 300), (300, 675)])
@pytest.mark.parametrize("snr", [0.5, 2.0, 4.0])
def test_order_two_amp_matches_state_evolution(shape, snr):
    amp, theory = converged_overlaps(shape, "rademacher", snr, informed=False)
    assert np.all(np.abs(amp - theory) < TOLERANCE), f"AMP {amp} vs state evolution {theory}"
    if snr < 1:
        assert np.all(theory < 1e-3)      # below the threshold: nothing to find


@pytest.mark.parametrize("shape", [(100, 100, 100), (200, 100, 50)])
@pytest.mark.parametrize("snr", [2.5, 6.0, 10.0])
def test_order_three_amp_matches_state_evolution(shape, snr):
    amp, theory = converged_overlaps(shape, "rademacher", snr, informed=True)
    assert np.all(np.abs(amp - theory) < TOLERANCE), f"AMP {amp} vs state evolution {theory}"
    if snr == 2.5:
        assert np.all(theory < 1e-3)      # below the informed branch: even a start is lost


def test_without_the_onsager_term_state_evolution_fails():
    """The test of the test: naive mean field on the same tensors misses state evolution."""
    amp, theory = converged_overlaps((300, 300), "rademacher", 2.0, informed=False,
                                     onsager=False)
    assert np.all(np.abs(amp - theory) > TOLERANCE)


def threshold_from_state_evolution(shape, prior):
    """The smallest snr at which state evolution from m = 10⁻⁴ ends above 10⁻², by bisection."""
    low, high = 0.2, 5.0
    for _ in range(25):
        mid = (low + high) / 2
        m = ta.state_evolution(snr=mid, shape=shape, prior=prior, n_iter=4000, m0=1e-4)[-1]
        low, high = (low, mid) if np.min(m) > 1e-2 else (mid, high)
    return (low + high) / 2


@pytest.mark.parametrize("shape", [(100, 100), (100, 400)])
@pytest.mark.parametrize("prior", ["gaussian", "rademacher"])
def test_order_two_threshold_is_the_closed_form(shape, prior):
    found = threshold_from_state_evolution(shape, prior)
    n = np.asarray(shape) / np.sqrt(np.prod(shape))
    closed = 1 / np.sqrt(n[0] * n[1])              # unit variances: v₁ = v₂ = 1
    assert found == pytest.approx(closed, abs=0.03)
    assert ta.detectability_threshold(shape, prior=prior) == pytest.approx(closed)
    if shape[0] != shape[1]:
        # the test of the test: scaling snr by one mode's size would predict 1/n_a instead
        assert all(abs(found - 1 / n_a) > 0.3 for n_a in n)


def cosine_scores(snr, seeds=range(4)):
    """Mean-over-modes cosine overlaps of AMP, ALS and the prior mean on the same tensors."""
    prior = ("gaussian", 1.0)
    scores = {"amp": [], "als": [], "mean": []}
    for seed in seeds:
        T, truth = ta.sample((100, 100, 100), rank=1, snr=snr, prior=prior, seed=seed)
        result = ta.amp(T, snr=snr, rank=1, prior=prior, max_iter=300, seed=seed)
        scores["amp"].append(ta.overlaps(result.factors, truth, cosine=True).mean())
        scores["als"].append(ta.overlaps(ta.als(T, snr=snr, rank=1, seed=seed), truth,
                                         cosine=True).mean())
        scores["mean"].append(ta.overlaps([np.ones_like(x) for x in truth], truth,
                                          cosine=True).mean())
    return {k: np.array(v) for k, v in scores.items()}


MARGIN = 0.003


def beats_als(scores, method):
    """``method`` beats ALS by MARGIN on every tensor, and on those where ALS found the signal."""
    found = scores["als"] > 0.5
    return (found.sum() >= 2 and np.all(scores[method] > scores["als"] + MARGIN)
            and np.all(scores[method][found] > scores["als"][found] + MARGIN))


def test_amp_beats_als_in_noise():
    pytest.importorskip("tensorly")
    noisy = cosine_scores(1.0)
    assert beats_als(noisy, "amp"), noisy
    # the tests of the test: knowing the prior mean alone does not pass, and on clean
    # tensors (snr 30) the same comparison finds no advantage
    assert not beats_als(noisy, "mean")
    assert not beats_als(cosine_scores(30.0, seeds=range(2)), "amp")


def order_three_gap(snr, onsager):
    """|mean AMP − state evolution| of the normalized overlap x̂ᵀx/|x|² (mean over modes and
    two tensors), p = 3, zero-mean Gaussian factors, N = 100, from the weak side channel."""
    shape, prior, finals, starts = (100, 100, 100), "gaussian", [], []
    for seed in range(2):
        T, truth = ta.sample(shape, rank=1, snr=snr, prior=prior, seed=seed)
        init = ta.informed_start(truth, prior=prior, strength=1.0, seed=seed)
        result = ta.amp(T, snr=snr, rank=1, prior=prior, max_iter=60, truth=truth,
                        init=init, seed=seed, onsager=onsager)
        norms = np.array([float(np.sum(np.asarray(x) ** 2)) / len(x) for x in truth])
        finals.append(result.overlaps[-1] / norms)
        starts.append(result.overlaps[0] / norms)
    theory = ta.state_evolution(snr=snr, shape=shape, prior=prior, n_iter=300,
                                m0=np.mean(starts, axis=0))[-1]
    return abs(float(np.mean(finals) - np.mean(theory)))


@pytest.mark.parametrize("snr", [6.0, 12.0])
def test_order_three_onsager_term_is_needed(snr):
    """p = 3 with the stale estimates X̂_(b) matches state evolution; naive mean field does
    not. (Using the current X̂ in place of X̂_(b) is no test: in sequential sweeps X̂^a_(b) is
    the current X̂^a, and the other factors' version changes the path, not the fixed point.)"""
    assert order_three_gap(snr, onsager=True) < TOLERANCE
    assert order_three_gap(snr, onsager=False) > TOLERANCE
