"""Claims of the ConvRNN chapter (Nayebi et al., NeurIPS 2018) that hold by construction.

Every cell of ``vision.CELLS`` is trained briefly on the chapter's offline data, at the
chapter's matched parameter count, and then:

- its unrolled step is differentiable and its states stay finite for three times the trained
  unroll with the image removed (the check fails on a vanilla cell whose recurrent weights
  are scaled up: it is not vacuous);
- the compared cells have parameter counts within 5 % of the target (at equal widths no
  target is within 5 % of them all);
- with its recurrent weights zeroed it computes exactly the feedforward backbone's logits at
  every step (with them in place it does not).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import data, vision
from test_vision import assign

TARGET, STEPS, IMAGE_OFF, SIDE = 8500, 6, 4, 16       # the chapter's quick and standard sizes
TRAIN_STEPS = 30


@pytest.fixture(scope="module")
def patches():
    return data.natural_patches(512, side=SIDE, zoom=0.25, seed=0)


@pytest.fixture(scope="module")
def trained(patches):
    models = {}
    for cell in vision.CELLS:
        width = vision.matched_width(cell, TARGET, in_channels=1)
        models[cell] = vision.ConvRNN(cell, rngs=nnx.Rngs(0), steps=STEPS, image_off=IMAGE_OFF,
                                      width=width, in_channels=1)
        vision.train_population([models[cell]], patches.images, patches.labels, steps=TRAIN_STEPS,
                                batch_size=32, learning_rate=1e-3, shift=0)
    return models


def states_finite(model, images) -> bool:
    run = vision.unroll(model, images, steps=3 * model.steps)
    return all(bool(np.all(np.isfinite(v))) for v in run.values())


@pytest.mark.parametrize("cell", vision.CELLS)
def test_step_is_differentiable_and_stays_finite(cell, trained, patches):
    model = trained[cell]
    x = vision.to_input(patches.images[:16])
    assert vision.unroll(model, patches.images[:16])["logits"].shape == (STEPS, 16, 10)
    assert states_finite(model, patches.images)
    graphdef, params = nnx.split(model, nnx.Param)
    loss = lambda p: vision.classification_loss(nnx.merge(graphdef, p), x, jnp.asarray(patches.labels[:16]))
    gradient = jax.jit(jax.grad(loss))(params)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(gradient))
    recurrent = jax.tree.leaves(nnx.state(nnx.merge(graphdef, gradient), vision.Recurrent))
    assert cell == "feedforward" or any(float(jnp.abs(g).max()) > 0 for g in recurrent)


def test_finiteness_check_catches_a_runaway_cell(trained, patches):
    runaway = nnx.clone(trained["vanilla"])
    for layer in runaway.cells:
        assign(layer.state_to_state, 1e4 * layer.state_to_state[...])
    assert not states_finite(runaway, patches.images)


def test_parameter_counts_are_matched():
    def counts(widths):
        return [vision.count_params(nnx.eval_shape(lambda: vision.ConvRNN(
            cell, rngs=nnx.Rngs(0), steps=1, image_off=1, width=widths[cell], in_channels=1)))
            for cell in vision.CELLS]

    matched = counts({cell: vision.matched_width(cell, TARGET, in_channels=1) for cell in vision.CELLS})
    assert max(abs(n / TARGET - 1) for n in matched) < 0.05
    same_width = counts({cell: 16 for cell in vision.CELLS})
    assert max(same_width) / min(same_width) > 1.05 / 0.95


@pytest.mark.parametrize("cell", vision.CELLS[1:])
def test_zero_recurrence_is_the_feedforward_backbone(cell, trained, patches):
    model = nnx.clone(trained[cell])
    feedforward = vision.ConvRNN("feedforward", rngs=nnx.Rngs(1), steps=STEPS, image_off=IMAGE_OFF,
                                 width=model.width, in_channels=1)
    nnx.update(feedforward.drives, nnx.state(model.drives))
    nnx.update(feedforward.readout, nnx.state(model.readout))
    logits = lambda net: vision.unroll(net, patches.images[:64])["logits"]
    expected = logits(feedforward)
    assert not np.allclose(logits(model)[1:], expected[1:], atol=1e-4)
    nnx.update(model, jax.tree.map(jnp.zeros_like, nnx.state(model, vision.Recurrent)))
    np.testing.assert_allclose(logits(model), expected, rtol=1e-5, atol=1e-5)
