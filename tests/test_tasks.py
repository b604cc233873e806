"""The three tasks of Maheswaranathan et al. (2019): shapes, seeding and their target rules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurotheory import runtime, tasks

TASKS = {
    "flip_flop": (tasks.flip_flop, dict(bits=3), 3, 3),
    "sine_wave": (tasks.sine_wave, {}, 1, 1),
    "context_integration": (tasks.context_integration, {}, 4, 1),
}


@pytest.mark.parametrize("name", TASKS)
def test_shapes_dtypes_and_seeding(name):
    make, options, n_in, n_out = TASKS[name]
    batch = make(runtime.key(0), batch=5, steps=40, **options)
    assert isinstance(batch, tasks.Batch)
    assert batch.inputs.shape == (5, 40, n_in)
    assert batch.targets.shape == (5, 40, n_out)
    assert batch.mask.shape == (5, 40)
    for array in batch:
        assert array.dtype == jnp.float32
    assert set(np.unique(np.asarray(batch.mask))) <= {0.0, 1.0}
    again = make(runtime.key(0), batch=5, steps=40, **options)
    other = make(runtime.key(1), batch=5, steps=40, **options)
    for first, second in zip(batch, again):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(batch.inputs, other.inputs)
    legacy = make(jax.random.PRNGKey(0), batch=5, steps=40, **options)
    assert legacy.inputs.shape == (5, 40, n_in)


@pytest.mark.parametrize("name", TASKS)
def test_tasks_run_under_jit_and_vmap_over_keys(name):
    make, options, n_in, n_out = TASKS[name]
    keys = jax.random.split(runtime.key(2), 3)
    stacked = jax.jit(jax.vmap(lambda k: make(k, batch=2, steps=7, **options)))(keys)
    assert isinstance(stacked, tasks.Batch)
    assert stacked.inputs.shape == (3, 2, 7, n_in) and stacked.targets.shape == (3, 2, 7, n_out)
    np.testing.assert_array_equal(stacked.inputs[1], make(keys[1], batch=2, steps=7, **options).inputs)


def held_sign(inputs):
    """The pinned flip-flop rule by a plain loop: the last nonzero input at any step ≤ t, else 0."""
    batch, steps, bits = inputs.shape
    targets = np.zeros_like(inputs)
    for i in range(batch):
        for k in range(bits):
            last = 0.0
            for t in range(steps):
                if inputs[i, t, k] != 0:
                    last = inputs[i, t, k]
                targets[i, t, k] = last
    return targets


def test_flip_flop_holds_the_sign_of_the_last_pulse():
    batch = tasks.flip_flop(runtime.key(3), batch=12, steps=30, bits=3, pulse_prob=0.15)
    inputs, targets = np.asarray(batch.inputs), np.asarray(batch.targets)
    assert set(np.unique(inputs)) == {-1.0, 0.0, 1.0}
    assert set(np.unique(targets)) == {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(targets, held_sign(inputs))
    np.testing.assert_array_equal(batch.mask, np.ones((12, 30)))
    pulse_at_start = inputs[:, 0, :] != 0
    assert pulse_at_start.any(), "the sample must exercise a pulse at step 0"
    np.testing.assert_array_equal(targets[:, 0, :][pulse_at_start], inputs[:, 0, :][pulse_at_start])
    np.testing.assert_array_equal(targets[:, 0, :][~pulse_at_start], 0.0)
    flips = (inputs != 0) & (np.roll(targets, 1, axis=1) == -inputs)
    assert flips[:, 1:].any(), "the sample must exercise a flip to the opposite sign"


def test_flip_flop_pulse_rate_and_sign_balance():
    p, shape = 0.05, (64, 200, 3)
    inputs = np.asarray(tasks.flip_flop(runtime.key(4), batch=64, steps=200, pulse_prob=p).inputs)
    n = np.prod(shape)
    pulses = np.count_nonzero(inputs)
    assert abs(pulses - n * p) < 5 * np.sqrt(n * p * (1 - p))
    positive = np.count_nonzero(inputs > 0)
    assert abs(positive - pulses / 2) < 5 * np.sqrt(pulses / 4)
    silent = tasks.flip_flop(runtime.key(4), batch=2, steps=10, pulse_prob=0.0)
    np.testing.assert_array_equal(silent.inputs, 0.0)
    np.testing.assert_array_equal(silent.targets, 0.0)
    always = tasks.flip_flop(runtime.key(4), batch=2, steps=10, pulse_prob=1.0)
    np.testing.assert_array_equal(always.targets, always.inputs)
    assert np.all(np.abs(np.asarray(always.inputs)) == 1.0)


def test_sine_wave_levels_encode_the_frequency_index():
    levels = np.asarray(tasks.sine_wave_levels())
    J = len(tasks.FREQUENCIES)
    assert J == 51
    assert tasks.FREQUENCIES[0] == pytest.approx(0.1) and tasks.FREQUENCIES[-1] == pytest.approx(0.6)
    np.testing.assert_allclose(levels, np.arange(J) / J + 0.25, rtol=1e-6)
    assert np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(tasks.sine_wave_levels([0.2, 0.4]), [0.25, 0.75])


@pytest.mark.parametrize("frequencies", [tasks.FREQUENCIES, [0.3, 0.05, 1.2]])
def test_sine_wave_target_is_the_sine_of_the_cued_frequency(frequencies):
    frequencies = np.asarray(frequencies)
    J = len(frequencies)
    batch = tasks.sine_wave(runtime.key(5), batch=40, steps=120, frequencies=frequencies)
    inputs, targets = np.asarray(batch.inputs, float), np.asarray(batch.targets, float)
    np.testing.assert_array_equal(inputs, np.broadcast_to(inputs[:, :1, :], inputs.shape))
    index = np.rint((inputs[:, 0, 0] - 0.25) * J).astype(int)
    np.testing.assert_allclose(inputs[:, 0, 0], index / J + 0.25, atol=1e-6)
    assert index.min() >= 0 and index.max() < J
    assert len(np.unique(index)) >= min(J, 10), "trials must draw several frequencies"
    t = np.arange(120)
    np.testing.assert_allclose(targets[..., 0], np.sin(frequencies[index][:, None] * t), atol=1e-4)
    np.testing.assert_array_equal(batch.mask, np.ones((40, 120)))


def test_context_integration_scores_the_sign_of_the_cued_running_sum():
    batch = tasks.context_integration(runtime.key(6), batch=256, steps=60, drift_scale=0.1, noise=1.0)
    inputs, targets, mask = (np.asarray(a, np.float64) for a in batch)
    cue = inputs[..., 2:4]
    assert set(np.unique(cue)) == {0.0, 1.0}
    np.testing.assert_array_equal(cue.sum(-1), 1.0)
    np.testing.assert_array_equal(cue, np.broadcast_to(cue[:, :1], cue.shape))
    context = cue[:, 0].argmax(-1)
    assert 0 < context.mean() < 1, "both contexts must occur"
    running = np.cumsum(inputs[..., :2], axis=1)
    cued = running[np.arange(256), :, context]
    expected = np.where(cued >= 0, 1.0, -1.0)
    clear = np.abs(cued) > 1e-3  # float32 accumulation order may flip a sign within rounding of 0
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(targets[..., 0][clear], expected[clear])
    assert set(np.unique(targets)) == {-1.0, 1.0}
    expected_mask = np.zeros((256, 60))
    expected_mask[:, -1] = 1.0
    np.testing.assert_array_equal(mask, expected_mask)
    uncued = running[np.arange(256), -1, 1 - context]
    disagree = np.sign(uncued) != np.sign(cued[:, -1])
    assert disagree.sum() >= 20, "the sample must hold trials where the two streams disagree"
    assert np.all(targets[disagree, -1, 0] != np.where(uncued[disagree] >= 0, 1.0, -1.0))


def test_context_integration_evidence_is_drift_plus_noise():
    clean = tasks.context_integration(runtime.key(7), batch=500, steps=20, drift_scale=0.3, noise=0.0)
    evidence = np.asarray(clean.inputs[..., :2])
    drift = evidence[:, 0, :]
    np.testing.assert_array_equal(evidence, np.broadcast_to(drift[:, None], evidence.shape))
    assert np.all(np.abs(drift) <= 0.3) and drift.min() < -0.25 and drift.max() > 0.25
    assert abs(drift.mean()) < 5 * 0.3 / np.sqrt(3 * 1000)
    context = np.asarray(clean.inputs[:, 0, 2:4]).argmax(-1)
    drift_sign = np.where(drift[np.arange(500), context] >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(clean.targets[:, :, 0], np.broadcast_to(drift_sign[:, None], (500, 20)))
    noisy = tasks.context_integration(runtime.key(7), batch=500, steps=20, drift_scale=0.3, noise=2.0)
    noisy_evidence = np.asarray(noisy.inputs[..., :2])
    residual = noisy_evidence - noisy_evidence.mean(axis=1, keepdims=True)
    assert np.sqrt((residual ** 2).sum() / (500 * 2 * 19)) == pytest.approx(2.0, rel=0.03)


@pytest.mark.parametrize("make, kwargs, error, name", [
    (tasks.flip_flop, dict(batch=0, steps=5), ValueError, "batch"),
    (tasks.flip_flop, dict(batch=2.0, steps=5), TypeError, "batch"),
    (tasks.flip_flop, dict(batch=2, steps=0), ValueError, "steps"),
    (tasks.flip_flop, dict(batch=2, steps=5, bits=0), ValueError, "bits"),
    (tasks.flip_flop, dict(batch=2, steps=5, bits=True), TypeError, "bits"),
    (tasks.flip_flop, dict(batch=2, steps=5, pulse_prob=1.5), ValueError, "pulse_prob"),
    (tasks.flip_flop, dict(batch=2, steps=5, pulse_prob=-0.1), ValueError, "pulse_prob"),
    (tasks.flip_flop, dict(batch=2, steps=5, pulse_prob="0.1"), TypeError, "pulse_prob"),
    (tasks.sine_wave, dict(batch=2, steps=-1), ValueError, "steps"),
    (tasks.sine_wave, dict(batch=2, steps=5, frequencies=[]), ValueError, "frequencies"),
    (tasks.sine_wave, dict(batch=2, steps=5, frequencies=[0.1, -0.2]), ValueError, "frequencies"),
    (tasks.sine_wave, dict(batch=2, steps=5, frequencies=[[0.1, 0.2]]), ValueError, "frequencies"),
    (tasks.sine_wave, dict(batch=2, steps=5, frequencies=[0.1, np.nan]), ValueError, "frequencies"),
    (tasks.sine_wave, dict(batch=2, steps=5, frequencies=["fast"]), TypeError, "frequencies"),
    (tasks.context_integration, dict(batch=2, steps=5, drift_scale=0.0), ValueError, "drift_scale"),
    (tasks.context_integration, dict(batch=2, steps=5, noise=-1.0), ValueError, "noise"),
    (tasks.context_integration, dict(batch=2, steps=5, noise=np.inf), ValueError, "noise"),
    (tasks.context_integration, dict(batch="2", steps=5), TypeError, "batch"),
])
def test_bad_arguments_are_refused_by_name(make, kwargs, error, name):
    with pytest.raises(error, match=name):
        make(runtime.key(0), **kwargs)


@pytest.mark.parametrize("make", [tasks.flip_flop, tasks.sine_wave, tasks.context_integration])
@pytest.mark.parametrize("key, error", [
    (0, TypeError),
    (np.zeros(2, np.uint32), TypeError),
    (jnp.zeros(2, jnp.float32), TypeError),
    (jax.random.split(jax.random.key(0), 2), ValueError),
])
def test_a_key_must_be_one_jax_prng_key(make, key, error):
    with pytest.raises(error, match="key"):
        make(key, batch=2, steps=5)
