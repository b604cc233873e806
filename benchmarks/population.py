"""Training populations of task RNNs: network-steps per second against population size.

For ``--cell`` networks on the 3-bit flip-flop (``tasks.flip_flop``), side by side in one run
on whatever devices JAX has (the population is sharded over all of them):

* ``rnn.train_population``: every network in one compiled ``vmap`` over a ``lax.scan`` of steps;
* the same networks one at a time through ``rnn.train`` (each call reuses one compiled program);
* a hand-written pure-JAX population: the cell's forward pass under ``lax.scan``, ``jax.grad``
  and an Adam update written out, ``vmap`` over networks and ``lax.scan`` over steps — the
  floor the library's population step should stay within 10 % of.

Each is run once untimed to compile, then timed. Prints network-steps per second and each
rate as a ratio to the library population's (above 1: faster than the library).

    python benchmarks/population.py                          # GRU, 64 units, sizes 1 … 256
    python benchmarks/population.py --sizes 1 16 256 4096    # on a GPU
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from neurotheory import rnn, runtime, tasks


def make(cell: str, count: int, hidden: int) -> list[rnn.SequenceModel]:
    return [rnn.SequenceModel(cell, input_size=3, hidden_size=hidden, output_size=3, rngs=nnx.Rngs(seed))
            for seed in range(count)]


def hand_written(cell: str, hidden: int, params, data, keys, *, batch_size: int, learning_rate: float):
    """Adam on the masked squared error, written out: vmap over networks, scan over steps."""
    update, h0 = rnn.step(cell), jnp.zeros(rnn.state_size(cell, hidden))
    inputs, targets, mask = data

    def loss(p, rows):
        def one(x):
            return jax.lax.scan(lambda h, xt: (update(p["cell"], h, xt),) * 2, h0, x)[1]
        h = jax.vmap(one)(inputs[rows])
        y = rnn.output(cell, h) @ p["readout"] + p["bias"]
        return jnp.sum(mask[rows] * jnp.sum((y - targets[rows]) ** 2, -1)) / (jnp.sum(mask[rows]) * 3)

    def network(p, keys):
        def step(carry, key):
            p, m, v, t = carry
            rows = jax.random.randint(key, (batch_size,), 0, inputs.shape[0])
            g = jax.grad(loss)(p, rows)
            t = t + 1
            m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree.map(lambda p, m, v: p - learning_rate * (m / (1 - 0.9 ** t)) /
                             (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8), p, m, v)
            return (p, m, v, t), None
        zeros = jax.tree.map(jnp.zeros_like, p)
        return jax.lax.scan(step, (p, zeros, zeros, 0.0), keys)[0][0]

    return jax.jit(jax.vmap(network))(params, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", default="gru", choices=rnn.ARCHITECTURES)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64, 256])
    args = parser.parse_args()
    batch = tasks.flip_flop(runtime.key(0), batch=512, steps=50)
    data = (batch.inputs, batch.targets, batch.mask)
    print(runtime.describe())
    print(f"{args.cell}, {args.hidden} units, {args.steps} Adam steps of 64 trials × 50 time steps\n")
    print(f"{'networks':>8s} {'population':>14s} {'one at a time':>14s} {'hand-written':>14s}   (network-steps/s; ratio to population)")
    for count in args.sizes:
        rates = {}
        for name in ("population", "one at a time", "hand-written"):
            for timed in (False, True):
                models = make(args.cell, count, args.hidden)
                start = time.perf_counter()
                if name == "population":
                    rnn.train_population(models, *data, steps=args.steps, chunk=args.steps)
                elif name == "one at a time":
                    for seed, model in enumerate(models[: min(count, 16)]):   # at most 16: the rate is per network
                        rnn.train(model, *data, steps=args.steps, seed=seed, chunk=args.steps)
                else:
                    params = jax.tree.map(lambda *leaves: jnp.stack(leaves), *(
                        dict(cell=m.cell.weights(), readout=m.readout.kernel[...], bias=m.readout.bias[...])
                        for m in models))
                    keys = jnp.stack([jax.random.split(runtime.key(s), args.steps) for s in range(count)])
                    jax.block_until_ready(hand_written(args.cell, args.hidden, params, data, keys, batch_size=64,
                                                       learning_rate=3e-3))
                seconds = time.perf_counter() - start
            trained = min(count, 16) if name == "one at a time" else count
            rates[name] = trained * args.steps / seconds
        base = rates["population"]
        print(f"{count:8d} " + " ".join(f"{rate:9.0f} ({rate / base:4.2f})" for rate in rates.values()))


if __name__ == "__main__":
    main()
