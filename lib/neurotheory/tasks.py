"""The three tasks of Maheswaranathan, Williams, Golub, Ganguli & Sussillo (NeurIPS 2019).

Each task is a pure, seeded function of a JAX PRNG key that returns a :class:`Batch` of
``inputs`` (batch, steps, n_in), ``targets`` (batch, steps, n_out) and ``mask`` (batch, steps),
all float32; the mask is the 0/1 weight of each step in the loss. Same key, same batch.

* :func:`flip_flop` — K-bit flip-flop (n_in = n_out = K). Each input channel k gets a pulse
  x_k[t] = ±1 with probability ``pulse_prob`` per step (sign ±1 equally likely), else 0; the
  target holds the sign of the last pulse, the pulse's own step included:

      y_k[t] = x_k[s*],  s* = max{s ≤ t : x_k[s] ≠ 0},   and y_k[t] = 0 before the first pulse.

  Every step is scored (mask = 1 everywhere): before its channel's first pulse the network
  is asked to output 0, "nothing stored yet".

* :func:`sine_wave` — frequency-cued sine generation (n_in = n_out = 1). Trial i draws a
  frequency index j uniformly from the J frequencies ω_0 … ω_{J−1} (rad/step, default 51
  values in [0.1, 0.6]); its input is the static level u_j = j/J + 0.25 at every step
  (:func:`sine_wave_levels`), its target y[t] = sin(ω_j t) for t = 0 … steps−1; mask = 1.

* :func:`context_integration` — context-dependent integration (n_in = 4, n_out = 1), after
  Mante, Sussillo, Shenoy & Newsome (2013). Channels 0 and 1 carry noisy evidence
  e_k[t] = μ_k + ξ_k[t], with per-trial drifts μ_k ~ U[−drift_scale, drift_scale] and
  ξ_k[t] ~ N(0, noise²); channels 2 and 3 carry a one-hot cue c, constant over the trial,
  that selects stream k. The target is the sign of the realised running sum of the cued
  stream,

      y[t] = sign(Σ_{s≤t} e_k[s])  ∈ {−1, +1},  with sign(0) taken as +1,

  and only the last step is scored (mask = 1 at t = steps−1, 0 elsewhere).

The generators take Python sizes and may be called inside ``jax.jit`` or ``jax.vmap`` over
keys; their cores are jitted with the sizes static.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from neurotheory import checks

FREQUENCIES = np.linspace(0.1, 0.6, 51)
"""The default sine-wave frequencies, in radians per step."""

LEVEL_OFFSET = 0.25
"""The sine-wave input level of the first frequency: u_j = j/J + LEVEL_OFFSET."""


class Batch(NamedTuple):
    """One batch of trials; a pytree, so it passes through ``jit`` and ``vmap``.

    ``inputs`` (batch, steps, n_in), ``targets`` (batch, steps, n_out) and ``mask``
    (batch, steps), float32; ``mask`` is 1 on the steps the loss scores and 0 elsewhere.
    """

    inputs: jax.Array
    targets: jax.Array
    mask: jax.Array


def _check_key(key) -> None:
    """Refuse anything but one JAX PRNG key: a typed ``jax.random.key`` or a raw uint32 key."""
    if not isinstance(key, jax.Array):
        raise TypeError(f"key must be a JAX PRNG key (jax.random.key(seed)), got {type(key).__name__}")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key, got an array of keys of shape {key.shape}")
    elif key.dtype != jnp.uint32 or key.ndim != 1:
        raise TypeError(
            "key must be a JAX PRNG key (jax.random.key(seed), or a legacy uint32 "
            f"jax.random.PRNGKey), got an array of dtype {key.dtype} and shape {key.shape}"
        )


def _probability(name: str, value) -> float:
    """``value`` as a float in [0, 1]."""
    value = checks.number(name, value, allow_zero=True)
    if value > 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    return value


def _frequencies(frequencies) -> np.ndarray:
    """``frequencies`` as a non-empty 1-D float array of finite positive values."""
    try:
        values = np.asarray(frequencies, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"frequencies must be a 1-D sequence of numbers, got {type(frequencies).__name__}"
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"frequencies must be a non-empty 1-D sequence, got shape {values.shape}")
    if not np.all(np.isfinite(values)) or not np.all(values > 0):
        raise ValueError(f"frequencies must be finite and positive (rad/step), got {values}")
    return values


@functools.partial(jax.jit, static_argnames=("batch", "steps", "bits"))
def _flip_flop(key, pulse_prob, *, batch: int, steps: int, bits: int) -> Batch:
    fire_key, sign_key = jax.random.split(key)
    shape = (batch, steps, bits)
    fires = jax.random.bernoulli(fire_key, pulse_prob, shape)
    signs = jnp.where(jax.random.bernoulli(sign_key, 0.5, shape), 1.0, -1.0)
    inputs = jnp.where(fires, signs, 0.0).astype(jnp.float32)

    def hold(last, pulse):
        held = jnp.where(pulse != 0, pulse, last)
        return held, held

    _, held = jax.lax.scan(hold, jnp.zeros((batch, bits), jnp.float32), jnp.swapaxes(inputs, 0, 1))
    return Batch(inputs, jnp.swapaxes(held, 0, 1), jnp.ones((batch, steps), jnp.float32))


def flip_flop(key: jax.Array, *, batch: int, steps: int, bits: int = 3,
              pulse_prob: float = 0.05) -> Batch:
    """A batch of the ``bits``-bit flip-flop task (Maheswaranathan et al. 2019).

    x_k[t] ∈ {−1, 0, +1}: a pulse with probability ``pulse_prob``, sign ±1 equally likely.
    y_k[t] = x_k[s*] with s* = max{s ≤ t : x_k[s] ≠ 0} (the pulse's own step included), and
    y_k[t] = 0 before channel k's first pulse. The mask is 1 on every step.
    """
    _check_key(key)
    batch = checks.integer("batch", batch)
    steps = checks.integer("steps", steps)
    bits = checks.integer("bits", bits)
    pulse_prob = _probability("pulse_prob", pulse_prob)
    return _flip_flop(key, jnp.float32(pulse_prob), batch=batch, steps=steps, bits=bits)


def sine_wave_levels(frequencies=FREQUENCIES) -> jax.Array:
    """The static input level of each frequency: u_j = j/J + 0.25 for j = 0 … J−1 (float32).

    ``levels[j]`` is the input that cues ``frequencies[j]``; the level depends on the index
    only, so a trial's frequency is ``frequencies[round((u − 0.25) J)]``.
    """
    count = _frequencies(frequencies).size
    return jnp.asarray(np.arange(count) / count + LEVEL_OFFSET, jnp.float32)


@functools.partial(jax.jit, static_argnames=("batch", "steps"))
def _sine_wave(key, frequencies, levels, *, batch: int, steps: int) -> Batch:
    index = jax.random.randint(key, (batch,), 0, frequencies.shape[0])
    t = jnp.arange(steps, dtype=jnp.float32)
    targets = jnp.sin(frequencies[index][:, None] * t)[..., None]
    inputs = jnp.broadcast_to(levels[index][:, None, None], (batch, steps, 1))
    return Batch(inputs, targets, jnp.ones((batch, steps), jnp.float32))


def sine_wave(key: jax.Array, *, batch: int, steps: int, frequencies=FREQUENCIES) -> Batch:
    """A batch of the frequency-cued sine-wave task (Maheswaranathan et al. 2019).

    Each trial draws j uniformly from 0 … J−1 (J = len(frequencies), ω_j in rad/step);
    input u[t] = j/J + 0.25 at every step (:func:`sine_wave_levels`), target
    y[t] = sin(ω_j t) for t = 0 … steps−1. The mask is 1 on every step.
    """
    _check_key(key)
    batch = checks.integer("batch", batch)
    steps = checks.integer("steps", steps)
    values = _frequencies(frequencies)
    levels = sine_wave_levels(values)
    return _sine_wave(key, jnp.asarray(values, jnp.float32), levels, batch=batch, steps=steps)


@functools.partial(jax.jit, static_argnames=("batch", "steps"))
def _context_integration(key, drift_scale, noise, *, batch: int, steps: int) -> Batch:
    drift_key, noise_key, cue_key = jax.random.split(key, 3)
    drift = jax.random.uniform(drift_key, (batch, 1, 2), jnp.float32, -drift_scale, drift_scale)
    evidence = drift + noise * jax.random.normal(noise_key, (batch, steps, 2), jnp.float32)
    context = jax.random.randint(cue_key, (batch,), 0, 2)
    cue = jnp.broadcast_to(jax.nn.one_hot(context, 2, dtype=jnp.float32)[:, None, :], (batch, steps, 2))
    cued = jnp.take_along_axis(evidence, context[:, None, None], axis=2)
    targets = jnp.where(jnp.cumsum(cued, axis=1) >= 0, 1.0, -1.0).astype(jnp.float32)
    mask = jnp.zeros((batch, steps), jnp.float32).at[:, -1].set(1.0)
    return Batch(jnp.concatenate([evidence, cue], axis=-1), targets, mask)


def context_integration(key: jax.Array, *, batch: int, steps: int, drift_scale: float = 0.1,
                        noise: float = 1.0) -> Batch:
    """A batch of the context-dependent integration task (Maheswaranathan et al. 2019).

    inputs[..., k] = μ_k + ξ_k[t] for k = 0, 1, with μ_k ~ U[−drift_scale, drift_scale] per
    trial and ξ_k[t] ~ N(0, noise²); inputs[..., 2:4] = one-hot cue of the context k, constant
    over the trial. targets[..., 0] = sign(Σ_{s≤t} inputs[s, k]) with sign(0) = +1: the
    realised running sum of the cued stream, not the sign of its drift. The mask is 1 at the
    last step only. ``noise`` may be 0 (noiseless evidence); ``drift_scale`` must be positive.
    """
    _check_key(key)
    batch = checks.integer("batch", batch)
    steps = checks.integer("steps", steps)
    drift_scale = checks.number("drift_scale", drift_scale)
    noise = checks.number("noise", noise, allow_zero=True)
    return _context_integration(key, jnp.float32(drift_scale), jnp.float32(noise), batch=batch, steps=steps)
