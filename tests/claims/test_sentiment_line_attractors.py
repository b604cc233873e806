"""Headline claims of the sentiment line-attractor chapter (arXiv:1906.10720), at quick scale.

A GRU trained on the synthetic review corpus classifies held-out reviews well; its fixed
points (input x = 0) lie along one line, with an eigenvalue λ ≈ 1 in the middle of it; and
the one-dimensional integrator read off that linearization predicts the network's decisions.
The sizes are the chapter's quick-scale sizes.
"""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import data, fixedpoints, rnn, runtime

CORPUS = dict(n_train=10_000, n_test=1_000, vocab_size=500, min_length=10, max_length=40, seed=0)
MODEL = dict(embed_size=16, hidden_size=32)
TRAINING = dict(steps=500, batch_size=64, learning_rate=5e-3, seed=0)


@pytest.fixture(scope="module")
def trained():
    corpus = data.synthetic_sentiment(**CORPUS)
    model = rnn.Classifier("gru", vocab_size=len(corpus.vocabulary), rngs=nnx.Rngs(0), **MODEL)
    rnn.train(model, corpus.train.tokens, corpus.train.labels, **TRAINING)
    states = model.states(corpus.test.tokens[:500])
    candidates = fixedpoints.sample_states(states, 256, key=runtime.key(1))
    found = fixedpoints.find_fixed_points(model.autonomous(), candidates, tol=1e-10, max_iters=200)
    points = found.points[found.converged]
    return corpus, model, points, fixedpoints.linearize(model.autonomous(), points)


def test_gru_exceeds_95_percent_held_out_accuracy(trained):
    corpus, model, _, _ = trained
    assert rnn.accuracy(model, corpus.test.tokens, corpus.test.labels) > 0.95


def test_fixed_points_lie_on_a_line_with_an_integration_mode(trained):
    _, model, points, lin = trained
    assert len(points) > 100
    assert fixedpoints.principal_components(points).explained[0] > 0.90
    logits = np.asarray(model.logit(jnp.asarray(points)))
    middle = np.abs(logits) < np.quantile(np.abs(logits), 0.5)
    assert np.abs(np.abs(lin.eigenvalues[middle, 0]) - 1).max() < 0.05


def test_one_dimensional_integrator_agrees_with_the_rnn(trained):
    corpus, model, points, lin = trained
    k = np.argmin(np.abs(np.asarray(model.logit(jnp.asarray(points)))))
    left, right, decay = lin.left[k, 0].real, lin.right[k, :, 0].real, lin.eigenvalues[k, 0].real
    words = np.array(model.embed(jnp.arange(len(corpus.vocabulary))[None])[0])
    drive = fixedpoints.input_drive(model.transition(), points[k], words, left)
    tokens = corpus.test.tokens
    s = fixedpoints.integrate(drive[tokens], decay, mask=tokens != rnn.PAD, initial=-left @ points[k])
    integrator = np.asarray(model.logit(jnp.asarray(points[k] + s[:, None] * right))) > 0
    assert np.mean(integrator == rnn.predict(model, tokens)) > 0.90
