"""Training a population of sentiment RNNs: one vmapped program against one network at a time.

Compared, side by side in one run on whatever device JAX has, for ``--networks`` GRUs of the
same shape on the synthetic review corpus:

* ``rnn.train_population``: all networks in one compiled ``vmap`` over a ``lax.scan`` of steps;
* ``rnn.train`` called once per network (each call reuses the same compiled program);
* a plain loop of jitted optax steps per network, the way a Flax tutorial trains one model.

Each is run once untimed to compile, then timed on fresh networks. The step loop's time
includes the compilations ``nnx.jit`` does again for each new model object (in Flax 0.12,
two per model: a fresh graph, then the optimizer state after its first update). Prints seconds and each time as a ratio to
the population's. A ratio above 1 means the population is faster.

    python benchmarks/rnn_training.py                       # 8 GRUs, 64 units, 500 steps
    python benchmarks/rnn_training.py --networks 32 --hidden 128
"""

from __future__ import annotations

import argparse
import time

import jax
import optax
from flax import nnx

from neurotheory import data, rnn, runtime


def models(count: int, vocab: int, hidden: int) -> list[rnn.Classifier]:
    return [rnn.Classifier("gru", vocab_size=vocab, embed_size=32, hidden_size=hidden, rngs=nnx.Rngs(seed))
            for seed in range(count)]


@nnx.jit
def tutorial_step(model, optimizer, batch_tokens, batch_labels):
    value, grads = nnx.value_and_grad(rnn.classification_loss)(model, batch_tokens, batch_labels)
    optimizer.update(model, grads)
    return value


def tutorial_loop(model: rnn.Classifier, tokens, labels, steps: int, batch_size: int, seed: int) -> None:
    """One model, one Python-level step at a time (``nnx.jit`` on the step, as Flax's tutorials do)."""
    optimizer = nnx.Optimizer(model, optax.chain(optax.clip_by_global_norm(1.0), optax.adam(3e-3)), wrt=nnx.Param)
    key = runtime.key(seed)
    for _ in range(steps):
        key, sub = jax.random.split(key)
        batch = jax.random.randint(sub, (batch_size,), 0, tokens.shape[0])
        value = tutorial_step(model, optimizer, tokens[batch], labels[batch])
    value.block_until_ready()


def timed(fn) -> float:
    fn()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    corpus = data.synthetic_sentiment(n_train=5000, n_test=10, vocab_size=1000, min_length=20, max_length=80)
    tokens, labels = jax.numpy.asarray(corpus.train.tokens), jax.numpy.asarray(corpus.train.labels, "float32")
    vocab, n = len(corpus.vocabulary), args.networks
    print(runtime.describe())
    print(f"{n} GRUs of {args.hidden} units, {args.steps} steps of batch {args.batch}, reviews of ≤ 80 words")
    common = dict(steps=args.steps, batch_size=args.batch, chunk=args.steps)
    results = {
        "rnn.train_population (vmap)": timed(lambda: rnn.train_population(
            models(n, vocab, args.hidden), tokens, labels, **common)),
        "rnn.train, one at a time": timed(lambda: [rnn.train(m, tokens, labels, seed=i, **common)
                                                   for i, m in enumerate(models(n, vocab, args.hidden))]),
        "jitted step loop, one at a time": timed(lambda: [tutorial_loop(m, tokens, labels, args.steps, args.batch, i)
                                                          for i, m in enumerate(models(n, vocab, args.hidden))]),
    }
    base = results["rnn.train_population (vmap)"]
    print(f"{'method':34s} {'seconds':>9s} {'ratio to population':>20s}")
    for name, seconds in results.items():
        print(f"{name:34s} {seconds:9.2f} {seconds / base:20.2f}")


if __name__ == "__main__":
    main()
