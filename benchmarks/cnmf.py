"""Time for MU, HALS and ANLS (neurotheory.cnmf) to reach a common loss, beside seqNMF from PyPI.

    python benchmarks/cnmf.py [--sizes 2500 10000] [--iterations 200]

Same synthetic data (the paper's noisy dense sequences: N = 100, K = 3, L = 20) and the same
starting factors for every method. The common target is the loss our MU reaches after
``--iterations`` iterations; each method's time to reach it is printed with its ratio to our MU
and to seqNMF's multiplicative updates (``pip install seqnmf seaborn``; seqNMF is skipped with a
note when it cannot be imported). Compilation is excluded and reported separately. On CPU; on a
GPU too when JAX sees one.
"""

from __future__ import annotations

import argparse
import numpy as np

from neurotheory import cnmf, runtime

N, K, L = 100, 3, 20


def time_to(loss, seconds, target):
    hit = np.flatnonzero(loss <= target)
    return (int(hit[0]) + 1, float(seconds[hit[0]])) if hit.size else (None, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 10000])
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    print(runtime.describe())
    for T in args.sizes:
        data = cnmf.synthetic_sequences(N, K, L, T, event_rate=0.5, width=0.2, noise=1.0, seed=0)
        W0, H0 = cnmf.initialize(data.X, K, L, seed=0)
        traces, compile_s = {}, {}
        for method in cnmf.METHODS:
            result = cnmf.fit(data.X, K, L, method=method, max_iter=args.iterations, tol=0.0, seed=0)
            traces[method] = (result.loss, result.time)
            compile_s[method] = result.compile_time
        try:
            traces["seqnmf"] = cnmf.seqnmf_fit(data.X, W0, H0, args.iterations)
            compile_s["seqnmf"] = 0.0
        except ImportError as err:
            print(f"seqNMF skipped: {err}")
        target = traces["mu"][0][-1]
        reached = {name: time_to(loss, seconds, target) for name, (loss, seconds) in traces.items()}
        print(f"\nT = {T}: N = {N}, K = {K}, L = {L}; common target = our MU's loss after {args.iterations} "
              f"iterations = {target:.4f}")
        print(f"{'method':<8}{'ms/iter':>9}{'compile s':>11}{'final loss':>12}{'iters':>7}{'seconds':>13}"
              f"{'MU/this':>9}{'seqNMF/this':>13}")
        for name, (loss, seconds) in traces.items():
            iters, secs = reached[name]

            def ratio(ref):
                if not secs or ref not in reached:
                    return "—"
                ref_secs = reached[ref][1]
                # a reference that never reached the target took longer than its whole run
                return f"{ref_secs / secs:.2f}" if ref_secs else f">{traces[ref][1][-1] / secs:.1f}"

            print(f"{name:<8}{1e3 * seconds[-1] / len(seconds):>9.2f}{compile_s[name]:>11.2f}{loss[-1]:>12.4f}"
                  f"{iters or '—':>7}{f'{secs:.3f}' if secs else 'not reached':>13}{ratio('mu'):>9}{ratio('seqnmf'):>13}")

if __name__ == "__main__":
    main()
