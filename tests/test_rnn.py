"""Recurrent cells, the NNX classifier and its training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import rnn, runtime


@pytest.mark.parametrize("cell", rnn.ARCHITECTURES)
def test_every_cell_steps_a_state_and_is_differentiable(cell):
    params = rnn.init(cell, runtime.key(0), input_size=3, hidden_size=5)
    n = rnn.state_size(cell, 5)
    assert n == (10 if cell == "lstm" else 5)
    h = jax.random.normal(runtime.key(1), (n,)) * 0.3
    x = jnp.ones(3)
    h_next = rnn.step(cell)(params, h, x)
    assert h_next.shape == (n,) and bool(jnp.all(jnp.isfinite(h_next)))
    jac = jax.jacfwd(lambda s: rnn.step(cell)(params, s, x))(h)
    assert jac.shape == (n, n) and bool(jnp.all(jnp.isfinite(jac)))
    batched = jax.vmap(lambda p: rnn.step(cell)(p, h, x))(
        jax.vmap(lambda k: rnn.init(cell, k, input_size=3, hidden_size=5))(jax.random.split(runtime.key(2), 4)))
    assert batched.shape == (4, n)


def test_cells_follow_their_equations():
    key = runtime.key(3)
    h, x = jnp.array([0.2, -0.4]), jnp.array([1.0, 0.5, -1.0])
    p = rnn.init("vanilla", key, input_size=3, hidden_size=2)
    np.testing.assert_allclose(rnn.vanilla_step(p, h, x), jnp.tanh(p["W"] @ h + p["U"] @ x + p["b"]), rtol=1e-6)
    np.testing.assert_allclose(rnn.relu_step(p, h, x), np.maximum(0, p["W"] @ h + p["U"] @ x + p["b"]), rtol=1e-6)
    p = rnn.init("gru", key, input_size=3, hidden_size=2)
    p["b_z"] = jnp.full(2, 50.0)  # update gate shut: the GRU keeps its state
    np.testing.assert_allclose(rnn.gru_step(p, h, x), h, atol=1e-6)
    p = rnn.init("ugrnn", key, input_size=3, hidden_size=2)
    p["b_g"] = jnp.full(2, -50.0)  # gate open: the UGRNN is a vanilla RNN on its candidate
    np.testing.assert_allclose(rnn.ugrnn_step(p, h, x), jnp.tanh(p["W_c"] @ h + p["U_c"] @ x + p["b_c"]), atol=1e-6)
    p = rnn.init("lstm", key, input_size=3, hidden_size=2)
    state = jnp.concatenate([jnp.array([0.5, -0.5]), h])
    sig = jax.nn.sigmoid
    gates = {g: p[f"W_{g}"] @ h + p[f"U_{g}"] @ x + p[f"b_{g}"] for g in "ifgo"}
    c = sig(gates["f"]) * state[:2] + sig(gates["i"]) * jnp.tanh(gates["g"])
    np.testing.assert_allclose(rnn.lstm_step(p, state, x), jnp.concatenate([c, sig(gates["o"]) * jnp.tanh(c)]), rtol=1e-6)
    np.testing.assert_allclose(rnn.output("lstm", state), h)


def test_padding_holds_the_state_and_the_readout_sees_the_last_word():
    model = rnn.Classifier("gru", vocab_size=20, embed_size=4, hidden_size=6, rngs=nnx.Rngs(0))
    tokens = jnp.array([[5, 7, 9, 0, 0], [5, 7, 9, 11, 3]])
    states = model.states(tokens)
    assert states.shape == (2, 5, 6)
    np.testing.assert_allclose(states[0, 3:], jnp.broadcast_to(states[0, 2], (2, 6)))
    np.testing.assert_allclose(states[0, :3], states[1, :3], rtol=1e-6)
    short = model(tokens[:1, :3])
    np.testing.assert_allclose(model(tokens)[0], short[0], rtol=1e-5)
    np.testing.assert_allclose(model.autonomous()(states[0, 2]), model.transition()(states[0, 2], jnp.zeros(4)))


def test_lstm_readout_direction_ignores_the_cell_state():
    model = rnn.Classifier("lstm", vocab_size=10, embed_size=3, hidden_size=4, rngs=nnx.Rngs(1))
    w = model.readout_direction()
    assert w.shape == (8,) and np.all(w[:4] == 0)
    state = jax.random.normal(runtime.key(4), (8,))
    np.testing.assert_allclose(model.logit(state) - model.logit(jnp.zeros(8)), w @ state, rtol=1e-5)


def test_training_learns_a_simple_sentiment_rule():
    """Reviews of tokens 2..9: label = more 2s than 3s. A vanilla RNN learns it."""
    rng = runtime.rng(0)
    tokens = rng.integers(2, 10, size=(2000, 12)).astype(np.int32)
    labels = ((tokens == 2).sum(1) > (tokens == 3).sum(1)).astype(np.int32)
    model = rnn.Classifier("vanilla", vocab_size=10, embed_size=4, hidden_size=8, rngs=nnx.Rngs(0))
    before = rnn.accuracy(model, tokens, labels)
    losses = rnn.train(model, tokens, labels, steps=300, batch_size=64, learning_rate=1e-2, chunk=150)
    assert losses.shape == (300,)
    assert losses[-50:].mean() < 0.5 * losses[:10].mean()
    assert rnn.accuracy(model, tokens, labels) > max(0.85, before + 0.2)


def _rule_data():
    rng = runtime.rng(1)
    tokens = rng.integers(2, 10, size=(500, 8)).astype(np.int32)
    return tokens, ((tokens == 2).sum(1) > (tokens == 3).sum(1)).astype(np.int32)


def test_population_training_matches_one_network_at_a_time():
    """Each member of a vmapped population follows exactly the run it would have alone."""
    tokens, labels = _rule_data()
    make = [lambda: rnn.Classifier("gru", vocab_size=10, embed_size=3, hidden_size=5, rngs=nnx.Rngs(i))
            for i in (0, 1, 2)]
    population = [m() for m in make]
    together = rnn.train_population(population, tokens, labels, steps=40, seeds=[5, 6, 7], chunk=20)
    assert together.shape == (3, 40)
    assert not np.allclose(together[0], together[1])
    for m, seed, member, history in zip(make, (5, 6, 7), population, together):
        alone = m()
        np.testing.assert_allclose(rnn.train(alone, tokens, labels, steps=40, seed=seed, chunk=20), history,
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(alone(tokens), member(tokens), rtol=1e-4, atol=1e-5)


def test_training_compiles_once_per_shape():
    tokens, labels = _rule_data()
    models = [rnn.Classifier("vanilla", vocab_size=10, embed_size=3, hidden_size=4, rngs=nnx.Rngs(i)) for i in (0, 1)]
    rnn.train(models[0], tokens, labels, steps=10, chunk=10)
    compiled = rnn._train_chunk._cache_size()
    rnn.train(models[1], tokens, labels, steps=10, chunk=10, seed=3)
    assert rnn._train_chunk._cache_size() == compiled


def test_population_refuses_mixed_architectures():
    tokens, labels = _rule_data()
    models = [rnn.Classifier(cell, vocab_size=10, embed_size=3, hidden_size=4, rngs=nnx.Rngs(0))
              for cell in ("gru", "ugrnn")]
    with pytest.raises(ValueError, match="architecture"):
        rnn.train_population(models, tokens, labels, steps=2)
    with pytest.raises(ValueError, match="seeds"):
        rnn.train_population(models[:1], tokens, labels, steps=2, seeds=[0, 1])
    with pytest.raises(ValueError, match="models"):
        rnn.train_population([], tokens, labels, steps=2)


def test_batched_logits_match_the_whole_batch_and_compile_once_per_shape():
    tokens, _ = _rule_data()
    tokens = tokens[:203]                       # not a multiple of the batch size
    first, second = (rnn.Classifier("lstm", vocab_size=10, embed_size=3, hidden_size=4, rngs=nnx.Rngs(i))
                     for i in (0, 1))
    whole = np.asarray(first(jnp.asarray(tokens)))
    np.testing.assert_allclose(rnn.logits(first, tokens, batch_size=64), whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(rnn.predict(first, tokens, batch_size=64), (whole > 0).astype(int))
    compiled = rnn._logits._cache_size()
    rnn.logits(second, tokens, batch_size=64)
    assert rnn._logits._cache_size() == compiled
    np.testing.assert_allclose(first.states(tokens, final_only=True), first.states(tokens)[:, -1], rtol=1e-6)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="cell"):
        rnn.step("transformer")
    with pytest.raises(ValueError, match="hidden_size"):
        rnn.init("gru", runtime.key(0), input_size=3, hidden_size=0)
    with pytest.raises(TypeError, match="input_size"):
        rnn.init("gru", runtime.key(0), input_size=2.5, hidden_size=3)
    model = rnn.Classifier("gru", vocab_size=10, embed_size=3, hidden_size=4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="tokens"):
        model(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="tokens"):
        model(jnp.ones(3, int))
    with pytest.raises(ValueError, match="labels"):
        rnn.train(model, np.ones((4, 3), int), np.ones(5), steps=1)
    with pytest.raises(ValueError, match="learning_rate"):
        rnn.train(model, np.ones((4, 3), int), np.ones(4), steps=1, learning_rate=0.0)
    with pytest.raises(ValueError, match="at least one review"):
        rnn.logits(model, np.ones((0, 3), int))
    with pytest.raises(ValueError, match="labels"):
        rnn.accuracy(model, np.ones((4, 3), int), np.ones(3))
    with pytest.raises(ValueError, match="inputs"):
        rnn.run("gru", rnn.init("gru", runtime.key(0), input_size=3, hidden_size=4), jnp.ones(3))


def _echo_data(n=256, steps=12, seed=0):
    """Inputs (n, steps, 2) and targets = the running sum of channel 0 minus channel 1; mask on the last half."""
    x = np.asarray(jax.random.normal(runtime.key(seed), (n, steps, 2))) * 0.3
    targets = np.cumsum(x[..., :1] - x[..., 1:], axis=1)
    mask = (np.arange(steps) >= steps // 2)[None].repeat(n, 0).astype(np.float32)
    return x.astype(np.float32), targets.astype(np.float32), mask


def _sequence_models(cell="gru", seeds=(0, 1, 2)):
    return [rnn.SequenceModel(cell, input_size=2, hidden_size=8, output_size=1, rngs=nnx.Rngs(s)) for s in seeds]


def test_sequence_model_reads_out_every_step_and_learns_a_task():
    inputs, targets, mask = _echo_data()
    model = _sequence_models(seeds=(0,))[0]
    assert model(jnp.asarray(inputs)).shape == (256, 12, 1)
    assert model.autonomous()(jnp.zeros(8)).shape == (8,)
    losses = rnn.train(model, inputs, targets, mask, steps=300, batch_size=32, learning_rate=1e-2)
    assert losses[-20:].mean() < 0.2 * losses[:20].mean()
    # the masked loss ignores unscored steps: changing targets there changes nothing
    scrambled = np.where(mask[..., None] > 0, targets, 100.0).astype(np.float32)
    args = (jnp.asarray(inputs), jnp.asarray(targets), jnp.asarray(mask))
    assert float(rnn.sequence_loss(model, *args)) == pytest.approx(
        float(rnn.sequence_loss(model, args[0], jnp.asarray(scrambled), args[2])))


def test_population_members_follow_their_own_hyperparameters():
    inputs, targets, mask = _echo_data()
    rates, l2s = [1e-2, 3e-3, 1e-3], [0.0, 1e-3, 1e-2]
    population = _sequence_models()
    together = rnn.train_population(population, inputs, targets, mask, steps=30, batch_size=16,
                                    learning_rate=rates, l2=l2s, seeds=[4, 5, 6], chunk=10)
    for seed, alone, member, rate, l2, history in zip((4, 5, 6), _sequence_models(), population, rates, l2s, together):
        np.testing.assert_allclose(rnn.train(alone, inputs, targets, mask, steps=30, batch_size=16,
                                             learning_rate=rate, l2=l2, seed=seed, chunk=10),
                                   history, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(alone(jnp.asarray(inputs[:8])), member(jnp.asarray(inputs[:8])), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="learning_rate"):
        rnn.train_population(population, inputs, targets, mask, steps=2, learning_rate=[1e-3, 1e-3])


SHARDED = r"""
import os, sys
import numpy as np, jax, jax.numpy as jnp
from flax import nnx
sys.path.insert(0, sys.argv[1])
from test_rnn import _echo_data, _sequence_models
from neurotheory import rnn
assert len(jax.devices()) == 4, jax.devices()
inputs, targets, mask = _echo_data()
population = _sequence_models()          # 3 networks on 4 devices: the population is padded
losses = rnn.train_population(population, inputs, targets, mask, steps=30, batch_size=16, seeds=[4, 5, 6], chunk=10)
np.savez(sys.argv[2], losses=losses, outputs=np.stack([np.asarray(m(jnp.asarray(inputs[:8]))) for m in population]))
"""


def test_population_sharded_over_four_devices_matches_each_network_alone(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script, out = tmp_path / "sharded.py", tmp_path / "sharded.npz"
    script.write_text(SHARDED)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    run = subprocess.run([sys.executable, str(script), str(Path(__file__).parent), str(out)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    sharded = np.load(out)
    inputs, targets, mask = _echo_data()
    for i, (seed, alone) in enumerate(zip((4, 5, 6), _sequence_models())):
        history = rnn.train(alone, inputs, targets, mask, steps=30, batch_size=16, seed=seed, chunk=10)
        np.testing.assert_allclose(sharded["losses"][i], history, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(sharded["outputs"][i], alone(jnp.asarray(inputs[:8])), rtol=1e-4, atol=1e-5)
