"""Training a deep linear network: jit-compiled lax.scan (neurotheory.deeplinear) vs a NumPy loop.

Both run the same full-batch gradient descent on the eight items (same sizes, same number of
steps, float32) and record W_tot at the same steps; the table prints seconds and the ratio
NumPy / JAX, first call (with compilation) and warm. Run: python benchmarks/deeplinear.py
"""

import time

import numpy as np

from neurotheory import deeplinear, runtime

STEPS, RECORD_EVERY, LR, INIT_SCALE = 8000, 40, 0.005, 1e-3


def numpy_gradient_descent(X, Y, hidden, n_hidden_layers, seed=0):
    """The same updates as train_deep_linear, one Python iteration per step."""
    rng = runtime.rng(seed)
    sizes = [X.shape[1]] + [hidden] * n_hidden_layers + [Y.shape[1]]
    Ws = [(INIT_SCALE * rng.standard_normal((n_out, n_in))).astype(np.float32)
          for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    products = []
    for step in range(STEPS + 1):
        if step % RECORD_EVERY == 0:
            product = Ws[0]
            for W in Ws[1:]:
                product = W @ product
            products.append(product)
        hs = [X]
        for W in Ws:
            hs.append(hs[-1] @ W.T)
        delta = (hs[-1] - Y) / len(X)                 # ∂L/∂ŷ for L = (1/2P) Σ‖y − ŷ‖²
        grads = []
        for W, h in zip(reversed(Ws), reversed(hs[:-1])):
            grads.append(delta.T @ h)
            delta = delta @ W
        Ws = [W - LR * g for W, g in zip(Ws, reversed(grads))]
    return np.stack(products)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main():
    data = deeplinear.eight_items()
    print(f"{STEPS} full-batch steps on {len(data.items)} items, records every {RECORD_EVERY}; "
          f"{runtime.describe()}")
    print(f"{'network':>22s} {'NumPy loop':>11s} {'JAX first':>10s} {'JAX warm':>9s} "
          f"{'NumPy/JAX first':>16s} {'NumPy/JAX warm':>15s}")
    for hidden, n_hidden_layers in ((64, 1), (256, 1), (64, 3)):
        run = lambda seed: deeplinear.train_deep_linear(
            data.X, data.Y, hidden, lr=LR, steps=STEPS, init_scale=INIT_SCALE,
            n_hidden_layers=n_hidden_layers, seed=seed, record_every=RECORD_EVERY)
        first, _ = timed(lambda: run(0))
        warm, result = timed(lambda: run(1))
        loop, products = timed(lambda: numpy_gradient_descent(data.X, data.Y, hidden, n_hidden_layers))
        assert products.shape == result.product.shape
        name = f"{n_hidden_layers} × {hidden} hidden"
        print(f"{name:>22s} {loop:10.2f}s {first:9.2f}s {warm:8.2f}s {loop / first:15.1f}× {loop / warm:14.1f}×")


if __name__ == "__main__":
    main()
