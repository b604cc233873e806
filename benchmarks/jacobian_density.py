"""Cost of the Jacobian spectrum: free-probability density vs sampling one network of the same depth.

    python benchmarks/jacobian_density.py [--depth 1000] [--points 500] [--width 256]

Prints wall-clock seconds (after one warm-up call each) and their ratio. The density is
``spectra.jacobian_density`` on a grid; the peer is what one would otherwise do, build one
random network's Jacobian and take its singular values (``spectra.sample_jacobian_eigenvalues``),
which gives ``width`` samples rather than a density. Run with one core:
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 python benchmarks/jacobian_density.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neurotheory import meanfield, runtime, spectra


def best_of(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(runtime.describe())
    print(f"depth {args.depth}, density on {args.points} points, sampled network width {args.width}")
    print(f"{'case':28s} {'density s':>10s} {'sample s':>10s} {'sample/density':>15s}")
    for phi, q, weights in [("tanh", 1 / 64, "orthogonal"), ("hard_tanh", 0.25, "orthogonal"),
                            ("relu", 1.0, "gaussian"), ("erf", 0.5, "gaussian")]:
        sigma_w, sigma_b = (float(a) for a in meanfield.critical_line(phi, q))
        top = spectra.jacobian_moments(phi, args.depth, sigma_w, sigma_b, weights, 2)[1]
        x = np.linspace(1e-3, 3.0 * top, args.points)
        density = best_of(lambda: spectra.jacobian_density(phi, args.depth, sigma_w, sigma_b, weights, x),
                          args.repeats)
        sample = best_of(lambda: spectra.sample_jacobian_eigenvalues(phi, args.depth, args.width, sigma_w,
                                                                     sigma_b, weights, 0), 1)
        print(f"{phi + ' ' + weights:28s} {density:10.3f} {sample:10.3f} {sample / density:15.1f}")


if __name__ == "__main__":
    main()
