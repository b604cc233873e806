"""Convolutional recurrent networks: cells, unrolling, the feedforward limit and parameter matching."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import vision
from test_vision import assign

X = jax.random.normal(jax.random.key(0), (3, 8, 8, 1))


def model(cell, seed=0, **options):
    options = dict(dict(steps=5, image_off=3, width=4, in_channels=1), **options)
    return vision.ConvRNN(cell, rngs=nnx.Rngs(seed), **options)


def count(cell, width, **options):
    return vision.count_params(nnx.eval_shape(lambda: model(cell, width=width, **options)))


@pytest.mark.parametrize("cell", vision.CELLS)
def test_shapes_and_finite_logits(cell):
    run = model(cell).run(X)
    assert run["logits"].shape == (5, 3, 10)
    assert run["layer_1"].shape == (5, 3, 8, 8, 4) and run["layer_2"].shape == (5, 3, 4, 4, 4)
    assert np.all(np.isfinite(run["logits"])) and np.all(run["layer_2"] >= 0)


@pytest.mark.parametrize("cell", vision.CELLS[1:])
def test_first_step_is_the_backbone(cell):
    """Every state starts at zero, so at step 0 each cell is [u]_+: the feedforward network's logits."""
    recurrent, feedforward = model(cell, seed=1), model("feedforward", seed=2)
    nnx.update(feedforward.drives, nnx.state(recurrent.drives))
    nnx.update(feedforward.readout, nnx.state(recurrent.readout))
    first = recurrent(X)[0]
    np.testing.assert_allclose(first, feedforward(X)[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(recurrent(X)[2], feedforward(X)[2], atol=1e-4)


def test_feedforward_sees_the_image_only_while_it_is_shown():
    logits = np.asarray(model("feedforward")(X))
    np.testing.assert_allclose(logits[1], logits[0], rtol=1e-6)
    np.testing.assert_allclose(logits[3], logits[4], rtol=1e-6)
    blank = model("feedforward")(jnp.zeros_like(X))
    np.testing.assert_allclose(logits[3], blank[0], rtol=1e-6)


@pytest.mark.parametrize("cell", ["vanilla", "reciprocal_gated"])
def test_a_longer_unroll_repeats_the_shorter_one(cell):
    net = model(cell)
    np.testing.assert_allclose(net.run(X, steps=10)["logits"][:5], net(X), rtol=1e-5, atol=1e-6)


def test_time_decay_is_a_leaky_integrator():
    """c_t = u + τ c_{t−1} from c = 0 sums to u (1 − τ^{t+1}) / (1 − τ)."""
    cell = vision.TimeDecayCell(2, nnx.Rngs(0))
    assign(cell.decay, jnp.array([0.5, -1.0]))
    u = jnp.array([1.0, 2.0])
    state = cell.initial_state(u)
    for t in range(6):
        _, state = cell(u, state)
    tau = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(state[0], u * (1 - tau ** 6) / (1 - tau), rtol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_memories_stay_bounded(cell):
    """The LSTM's tanh(c) and the GRU's memory (a convex mix of tanh terms) lie in [−1, 1]."""
    layer = vision.ConvRNN(cell, rngs=nnx.Rngs(0), steps=1, image_off=1, width=3, in_channels=1).cells[0]
    u = 10 * jax.random.normal(jax.random.key(1), (2, 6, 6, 3))
    state = layer.initial_state(u)
    for _ in range(20):
        h, state = layer(u, state)
    memory = np.tanh(state[1]) if cell == "lstm" else state[1]
    assert np.all(np.abs(memory) <= 1) and np.all(h >= 0)


def test_feedback_changes_the_first_layer_from_the_second_step():
    net = model("vanilla", feedback=True)
    assert "feedback" in vision.recurrent_parameters(net)
    plain = model("vanilla")
    nnx.update(plain, nnx.state(net, nnx.Not(nnx.PathContains("feedback"))))
    a, b = net.run(X), plain.run(X)
    np.testing.assert_allclose(a["layer_1"][0], b["layer_1"][0], rtol=1e-5)
    assert not np.allclose(a["layer_1"][1], b["layer_1"][1], atol=1e-5)


def test_recurrent_parameters_name_the_state_to_state_weights():
    assert vision.recurrent_parameters(model("feedforward")) == {}
    names = set(vision.recurrent_parameters(model("reciprocal_gated")))
    assert names == {f"cells.{i}.{w}" for i in (0, 1) for w in
                     ("memory_to_memory", "memory_to_output", "output_to_memory", "output_to_output")}
    assert set(vision.recurrent_parameters(model("lstm"))) == {
        f"cells.{i}.{w}" for i in (0, 1) for w in ("gates.from_state", "to_memory")}
    with pytest.raises(TypeError, match="model"):
        vision.recurrent_parameters(vision.RetinaNet(1, 0, rngs=nnx.Rngs(0), width=2, dense=4, side=16))


@pytest.mark.parametrize("cell", vision.CELLS)
def test_matched_width_is_the_nearest_width(cell):
    """The count is a quadratic in the width (its third difference is zero), so the width
    matched_width returns beats both of its neighbours."""
    counts = [count(cell, w) for w in range(4, 8)]
    assert counts[3] - 3 * counts[2] + 3 * counts[1] - counts[0] == 0
    for target in (700, 20000):
        width = vision.matched_width(cell, target, in_channels=1)
        miss = abs(count(cell, width) - target)
        assert all(miss <= abs(count(cell, w) - target) for w in (width - 1, width + 1) if w >= 1)


def test_parameter_count_by_hand():
    """Feedforward, width w, 2 layers, 3 × 3, 1 input channel: (9 + 1) w + (9 w + 1) w + (w + 1) 10."""
    w = 5
    assert count("feedforward", w) == 10 * w + (9 * w + 1) * w + (w + 1) * 10
    assert count("vanilla", w) - count("feedforward", w) == 2 * 9 * w * w
    assert count("reciprocal_gated", w) - count("feedforward", w) == 2 * 4 * 9 * w * w


def test_colour_input_and_training_lowers_the_loss():
    images = np.random.default_rng(0).integers(0, 256, (64, 8, 8, 3), dtype=np.uint8)
    x = vision.to_input(images, 3)
    assert x.shape == (64, 8, 8, 3) and np.allclose(x, images / 255 - 0.5)
    labels = (images[..., 0].mean((1, 2)) > 127).astype(int)
    net = vision.ConvRNN("gru", rngs=nnx.Rngs(0), steps=3, image_off=2, width=4, classes=2)
    history = vision.train_population([net], images, labels, steps=60, batch_size=16,
                                      learning_rate=1e-2, shift=0)
    assert history.shape == (1, 60) and history[0, -10:].mean() < history[0, :10].mean()


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="cell"):
        model("transformer")
    with pytest.raises(ValueError, match="steps"):
        model("vanilla", steps=0)
    with pytest.raises(ValueError, match="image_off"):
        model("vanilla", image_off=-1)
    with pytest.raises(ValueError, match="target_params"):
        vision.matched_width("vanilla", 0)
    with pytest.raises(ValueError, match="cell"):
        vision.matched_width("rnn", 100)
    with pytest.raises(TypeError, match="feedback"):
        model("vanilla", feedback=1)
    with pytest.raises(ValueError, match="x must have shape"):
        model("vanilla")(jnp.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="channels"):
        vision.to_input(np.zeros((2, 8, 8, 1)), 3)
    with pytest.raises(ValueError, match="image_off"):
        model("vanilla", image_off=0).decision_logits(X)
