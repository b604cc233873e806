"""Headline claims of the sentiment line-attractor chapter (arXiv:1906.10720), at quick scale.

GRUs trained on the synthetic review corpus (IMDB-like: 50–150 words, sparse graded
sentiment words, negation, label noise) beat the bag-of-valences baseline; their slow points
(input x = 0) form a line along the readout with λ₁ ≈ 1 and nothing unstable — a test that
two bistable switches fail (tests/test_fixedpoints.py) — in most seeds of a population, not
one chosen network; and where it does, the one-dimensional integrator built from the
network's own linearization predicts that network's decisions. The sizes are the chapter's
quick-scale sizes.
"""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import data, fixedpoints, rnn, runtime

CORPUS = dict(n_train=10_000, n_test=1_000, vocab_size=500, min_length=50, max_length=150, seed=0)
MODEL = dict(embed_size=16, hidden_size=32)
TRAINING = dict(steps=1_000, batch_size=64, learning_rate=5e-3, embedding_decay=1.0)
SEEDS = (0, 1, 2)
SLOW = 3e-5      # a slow point: q(h) = ½‖F(h) − h‖² < SLOW, as in the chapter
RADIUS = 1e-2    # slow points closer than this are one


def slow_points(model, tokens):
    """Distinct slow points from 1,024 visited states, sorted by readout, and their linearization."""
    visited = np.asarray(model.states(tokens))[tokens != rnn.PAD]
    points = fixedpoints.slow_points(model.autonomous(), visited, lambda h: np.asarray(model.logit(jnp.asarray(h))),
                                     count=1024, slow=SLOW, radius=RADIUS, key=runtime.key(1))
    return points, fixedpoints.linearize(model.autonomous(), points)


@pytest.fixture(scope="module")
def trained():
    corpus = data.synthetic_sentiment(**CORPUS)
    models = [rnn.Classifier("gru", vocab_size=len(corpus.vocabulary), rngs=nnx.Rngs(seed), **MODEL)
              for seed in SEEDS]
    rnn.train_population(models, corpus.train.tokens, corpus.train.labels, seeds=SEEDS, **TRAINING)
    return corpus, [(model, *slow_points(model, corpus.test.tokens[:500]),
                     rnn.logits(model, corpus.test.tokens)) for model in models]


def test_gru_beats_the_bag_of_valences(trained):
    corpus, networks = trained
    bag = np.mean((corpus.valence_count(corpus.test.tokens) > 0) == corpus.test.labels)
    for _, _, _, logits in networks:
        gru = np.mean((logits > 0) == corpus.test.labels)
        print(f"GRU {gru:.3f}, bag of valences {bag:.3f}")
        assert gru > 0.85 and gru > bag + 0.03


def line_tests(networks):
    """The line-attractor test of each network: slow points over its 10–90 % range of final readouts."""
    return [fixedpoints.line_attractor_test(np.asarray(model.logit(jnp.asarray(points))), lin.eigenvalues,
                                            span=tuple(np.quantile(logits, [0.1, 0.9])))
            for model, points, lin, logits in networks]


def test_slow_points_form_a_line_attractor_in_most_seeds(trained):
    # Not one chosen network: at least two of three seeds. The line is fragile at this size:
    # on twelve seeds (seeds 0–11, trained together) 11 pass, and a change of CPU or of the
    # population's size changes which. The chapter's run reports its own networks' verdicts.
    _, networks = trained
    tests = line_tests(networks)
    print(*tests, sep="\n")
    assert sum(test.holds for test in tests) >= 2


def integrator_logits(model, points, lin, tokens, vocabulary_size, words=None):
    """y_t = y_k + λ_k (y_{t−1} − y_k) + (wᵀr₁)(ℓ₁ᵀ B x_t) at the nearest slow point k; y_T.

    ``words`` (ids) replaces each word's vector by another's: the test of the test."""
    readout = np.asarray(model.logit(jnp.asarray(points)))
    B = fixedpoints.input_jacobians(model.transition(), points, model.embedding.features)
    ids = np.arange(vocabulary_size) if words is None else words
    vectors = np.asarray(model.embed(jnp.asarray(ids)[None])[0])
    drives = fixedpoints.readout_drives(lin, B, vectors, model.readout_direction())
    start = float(model.logit(jnp.zeros(points.shape[1])))
    return fixedpoints.line_integrator(readout, lin.eigenvalues[:, 0].real, drives, tokens, initial=start)[:, -1]


def test_integrator_predicts_the_network_where_the_line_holds(trained):
    # The reduced model knows only the network's slow points, λ₁, ℓ₁, r₁ and B. Where the line
    # test holds it agrees with the network far above chance and tracks its logit; with the
    # words' vectors shuffled among the words (same line, wrong drives) it does not. On twelve
    # seeds (0–11) the agreement ranged 0.74–0.83, the logit correlation 0.67–0.78 and the
    # shuffled control's agreement 0.44–0.55; the bounds below sit outside those ranges.
    corpus, networks = trained
    tokens, n = corpus.test.tokens, len(corpus.vocabulary)
    shuffled = np.concatenate([[rnn.PAD], 1 + runtime.rng(0).permutation(n - 1)])
    bag = corpus.valence_count(tokens) > 0
    for (model, points, lin, logits), line in zip(networks, line_tests(networks)):
        decisions = logits > 0
        y = integrator_logits(model, points, lin, tokens, n)
        print(f"line test {'holds' if line.holds else 'fails'}; agreement with the GRU: integrator "
              f"{np.mean((y > 0) == decisions):.3f}, bag of true valences {np.mean(bag == decisions):.3f}; "
              f"logit correlation {np.corrcoef(y, logits)[0, 1]:.3f}")
        if not line.holds:
            continue
        assert np.mean((y > 0) == decisions) > 0.7
        assert np.corrcoef(y, logits)[0, 1] > 0.6
        wrong = integrator_logits(model, points, lin, tokens, n, words=shuffled)
        assert np.mean((wrong > 0) == decisions) < 0.6
