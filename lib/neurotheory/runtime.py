"""Run-time conventions shared by every chapter: scale, devices, seeds and progress bars.

A chapter chooses all of its sizes in one cell::

    size = runtime.pick(quick=dict(width=64), standard=dict(width=512), paper=dict(width=2048))

and the scale comes from the environment variable ``NEUROTHEORY_SCALE``.
"""

from __future__ import annotations

import os
from typing import Iterable, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from neurotheory import checks

SCALES = ("quick", "standard", "paper")
DEFAULT_SCALE = "standard"
ENV_VAR = "NEUROTHEORY_SCALE"

T = TypeVar("T")


def scale() -> str:
    """The run scale: ``quick`` (CI), ``standard`` (the website, a laptop) or ``paper`` (one GPU).

    Read from ``NEUROTHEORY_SCALE``; unset or empty means ``standard``.
    """
    value = os.environ.get(ENV_VAR, "").strip().lower() or DEFAULT_SCALE
    if value not in SCALES:
        raise ValueError(
            f"{ENV_VAR}={os.environ.get(ENV_VAR)!r} is not a scale; use one of {', '.join(SCALES)}"
        )
    return value


def pick(*, quick: T, standard: T, paper: T) -> T:
    """Return the argument named by the current :func:`scale`."""
    return {"quick": quick, "standard": standard, "paper": paper}[scale()]


def describe() -> str:
    """One line on where this notebook runs: scale, JAX backend and devices."""
    devices = jax.devices()
    kinds: dict[str, int] = {}
    for device in devices:
        kinds[device.device_kind] = kinds.get(device.device_kind, 0) + 1
    listed = ", ".join(f"{n} × {kind}" for kind, n in kinds.items())
    return f"scale={scale()} · JAX {jax.__version__} on {jax.default_backend()} ({listed})"


def float64():
    """A context manager inside which JAX computes in float64 (``with runtime.float64(): ...``).

    ``jax.enable_x64`` where JAX has it (0.7 and later), ``jax.experimental.enable_x64`` before.
    """
    enable = getattr(jax, "enable_x64", None)
    if enable is None:
        from jax.experimental import enable_x64 as enable
    return enable(True)


def has_accelerator() -> bool:
    """True when JAX runs on a GPU or TPU."""
    return jax.default_backend() != "cpu"


def key(seed: int) -> jax.Array:
    """The one seeding convention: every random draw starts from ``jax.random.key(seed)``.

    Split it for independent draws (``jax.random.split(key(seed), n)`` for ``n`` seeds that
    ``vmap`` runs together). NumPy code takes :func:`rng` with the same seed.
    """
    checks.integer("seed", seed, minimum=0)
    return jax.random.key(seed)


def rng(seed: int) -> np.random.Generator:
    """A NumPy generator for the same seed convention as :func:`key`."""
    checks.integer("seed", seed, minimum=0)
    return np.random.default_rng(seed)


def network_sharding(count: int):
    """Place a population of ``count`` networks trained together under ``vmap`` on the devices.

    Returns ``(stack, replicated)``. ``stack(items)`` takes one array, or one pytree of arrays,
    per network and stacks them leaf by leaf on a new leading network axis, padded with copies
    of the last network up to a multiple of the local device count and split over the devices
    (``jax.sharding``); ``replicated`` is the sharding of data every network shares.
    """
    checks.integer("count", count)
    devices = jax.devices()
    mesh = jax.sharding.Mesh(np.asarray(devices), ("networks",))
    spec = jax.sharding.PartitionSpec
    sharded = jax.sharding.NamedSharding(mesh, spec("networks"))
    members = list(range(count)) + [count - 1] * (-count % len(devices))

    def stack(items):
        if len(items) != count:
            raise ValueError(f"stack needs one item per network ({count}), got {len(items)}")
        return jax.tree.map(lambda *leaves: jax.device_put(jnp.stack([leaves[i] for i in members]), sharded),
                            *items)

    return stack, jax.sharding.NamedSharding(mesh, spec())


def interactive_frontend() -> bool:
    """True inside a live Jupyter server or Colab kernel, False under batch execution."""
    return "JPY_SESSION_NAME" in os.environ or "COLAB_RELEASE_TAG" in os.environ


def progress(iterable: Iterable[T], *, desc: str | None = None, total: int | None = None,
             **options) -> Iterable[T]:
    """Wrap a long loop in a progress bar.

    A widget bar in a live Jupyter or Colab session; a text bar on stderr under batch
    execution (the site build drops stderr, so the built pages stay clean). Extra keyword
    arguments go to tqdm (``unit="B", unit_scale=True`` for downloads).
    """
    if interactive_frontend():
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(iterable, desc=desc, total=total, leave=False, **options)
