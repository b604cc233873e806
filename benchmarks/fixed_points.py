"""Time to bring K candidate states of a 128-unit GRU to q(h) = ½‖F(h) − h‖² < 1e-10.

Compared, side by side in one run on whatever device JAX has:

* ``fixedpoints.find_fixed_points`` with Levenberg–Marquardt (the library default), all K at once;
* the same with Adam, the optimizer of Golub & Sussillo's FixedPointFinder, all K at once;
* SciPy's ``optimize.root(method="lm")`` (MINPACK), the off-the-shelf choice, one candidate at
  a time with the exact Jacobian; timed on a sample and scaled to K (marked "extrapolated").

Prints wall time, the fraction converged and each method's time as a ratio to the library's.
Library runs of up to 4,096 candidates are compiled by an untimed first run; larger ones are
timed once, compilation (seconds) included.

    python benchmarks/fixed_points.py                  # K = 1,024 and 16,384
    python benchmarks/fixed_points.py --sizes 256      # a quick look
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from neurotheory import fixedpoints, rnn, runtime

HIDDEN = 128
TOL = 1e-10
WARM_UP_LIMIT = 4096  # larger runs include compilation (seconds) in a run of minutes


def gru_map(seed: int = 0, gain: float = 1.5):
    """F(h) = GRU(h, x = 0) with recurrent weights scaled by ``gain`` (several fixed points)."""
    params = rnn.init("gru", runtime.key(seed), input_size=1, hidden_size=HIDDEN)
    params = {name: value * gain if name.startswith("W") else value for name, value in params.items()}
    zero = jnp.zeros(1)
    return lambda h: rnn.gru_step(params, h, zero)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def library(step, candidates, method, **options):
    """Time one full run; below WARM_UP_LIMIT candidates a first run compiles it untimed."""
    run = lambda: fixedpoints.find_fixed_points(step, candidates, tol=TOL, method=method, **options)
    if len(candidates) <= WARM_UP_LIMIT:
        run()
    result, seconds = timed(run)
    return seconds, result.converged.mean()


def scipy_root(step, candidates, sample: int):
    residual = jax.jit(lambda h: step(h) - h)
    jacobian = jax.jit(jax.jacfwd(lambda h: step(h) - h))
    f = lambda h: np.asarray(residual(jnp.asarray(h, jnp.float32)), np.float64)
    j = lambda h: np.asarray(jacobian(jnp.asarray(h, jnp.float32)), np.float64)
    f(np.asarray(candidates[0])), j(np.asarray(candidates[0]))
    converged = []
    start = time.perf_counter()
    for h0 in np.asarray(candidates[:sample], np.float64):
        solution = optimize.root(f, h0, jac=j, method="lm", options={"xtol": 1e-12})
        residual_value = f(solution.x)
        converged.append(0.5 * residual_value @ residual_value < TOL)
    per_candidate = (time.perf_counter() - start) / sample
    return per_candidate * len(candidates), float(np.mean(converged))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 16384])
    parser.add_argument("--scipy-sample", type=int, default=32, help="candidates SciPy solves (then scaled)")
    parser.add_argument("--adam-iters", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="candidates per vmapped slice for Levenberg–Marquardt: bounds the Jacobians' "
                             "memory, and a slow candidate holds up only its own slice")
    args = parser.parse_args()
    step = gru_map()
    print(f"{HIDDEN}-unit GRU, target q < {TOL:g}; {runtime.describe()}")
    print(f"{'K':>7s} {'method':38s} {'seconds':>9s} {'converged':>10s} {'× library':>10s}")
    for k in args.sizes:
        candidates = 0.5 * jax.random.normal(runtime.key(k), (k, HIDDEN))
        batch = args.batch_size if k > args.batch_size else None
        rows = [("library: Levenberg–Marquardt, vmap", *library(step, candidates, "levenberg-marquardt",
                                                                  max_iters=100, batch_size=batch))]
        rows.append(("library: Adam, vmap", *library(step, candidates, "adam", max_iters=args.adam_iters,
                                                     learning_rate=1e-2)))
        rows.append((f"SciPy root(lm), loop (extrapolated from {args.scipy_sample})",
                     *scipy_root(step, candidates, args.scipy_sample)))
        base = rows[0][1]
        for name, seconds, converged in rows:
            print(f"{k:7d} {name:38s} {seconds:9.2f} {converged:10.1%} {seconds / base:10.1f}")


if __name__ == "__main__":
    main()
