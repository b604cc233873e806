"""Recurrent networks: four cells as pure steps, a Flax NNX classifier, and its training.

Every cell is a pure map of the state ``h`` (shape ``(n,)``) and the input ``x`` (shape
``(m,)``) to the next state, ``h_next = step(params, h, x)``, with ``params`` a dict of
arrays. That is what :mod:`neurotheory.fixedpoints` differentiates, and what ``vmap`` runs
over populations of networks. The cells (column-vector convention, σ the logistic function):

* ``"vanilla"``: h' = tanh(W h + U x + b)
* ``"relu"``: h' = max(0, W h + U x + b), the vanilla cell with a ReLU
* ``"gru"`` (Cho et al. 2014): z = σ(W_z h + U_z x + b_z), r = σ(W_r h + U_r x + b_r),
  h' = z ⊙ h + (1 − z) ⊙ tanh(W_h (r ⊙ h) + U_h x + b_h)
* ``"lstm"`` (Hochreiter & Schmidhuber 1997): the state is the concatenation (c, h);
  c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c'), with i, f, g, o = W_• h + U_• x + b_•
* ``"ugrnn"`` (Collins et al. 2017): g = σ(W_g h + U_g x + b_g), c = tanh(W_c h + U_c x + b_c),
  h' = g ⊙ h + (1 − g) ⊙ c

:class:`Classifier` embeds tokens, runs a cell over a review with ``lax.scan`` (padding
holds the state still) and reads out one logit from the last state, as in Maheswaranathan
et al. (2019, section 2). :func:`train` fits it with optax; :func:`train_population` fits many at once under ``vmap``.
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from neurotheory import checks, runtime, tasks  # rnn.tasks: what SequenceModel networks train on

CELLS = ("vanilla", "gru", "lstm", "ugrnn")            # the sentiment paper's four cells
ARCHITECTURES = ("vanilla", "relu", "gru", "lstm", "ugrnn")   # the universality paper's five
PAD = 0

Params = dict[str, jax.Array]
Step = Callable[[Params, jax.Array, jax.Array], jax.Array]


def _affine(params: Params, gate: str, h: jax.Array, x: jax.Array) -> jax.Array:
    """W_gate h + U_gate x + b_gate."""
    return params[f"W_{gate}"] @ h + params[f"U_{gate}"] @ x + params[f"b_{gate}"]


def vanilla_step(params: Params, h: jax.Array, x: jax.Array) -> jax.Array:
    """h' = tanh(W h + U x + b)."""
    return jnp.tanh(params["W"] @ h + params["U"] @ x + params["b"])


def relu_step(params: Params, h: jax.Array, x: jax.Array) -> jax.Array:
    """h' = max(0, W h + U x + b)."""
    return jax.nn.relu(params["W"] @ h + params["U"] @ x + params["b"])


def gru_step(params: Params, h: jax.Array, x: jax.Array) -> jax.Array:
    """h' = z ⊙ h + (1 − z) ⊙ tanh(W_h (r ⊙ h) + U_h x + b_h), gates z and r."""
    z = jax.nn.sigmoid(_affine(params, "z", h, x))
    r = jax.nn.sigmoid(_affine(params, "r", h, x))
    candidate = jnp.tanh(params["W_h"] @ (r * h) + params["U_h"] @ x + params["b_h"])
    return z * h + (1.0 - z) * candidate


def lstm_step(params: Params, state: jax.Array, x: jax.Array) -> jax.Array:
    """(c, h) ↦ (σ(f) ⊙ c + σ(i) ⊙ tanh(g), σ(o) ⊙ tanh(c')); the state is concat(c, h)."""
    c, h = jnp.split(state, 2)
    i, f, g, o = (_affine(params, gate, h, x) for gate in "ifgo")
    c_next = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h_next = jax.nn.sigmoid(o) * jnp.tanh(c_next)
    return jnp.concatenate([c_next, h_next])


def ugrnn_step(params: Params, h: jax.Array, x: jax.Array) -> jax.Array:
    """h' = g ⊙ h + (1 − g) ⊙ tanh(W_c h + U_c x + b_c), update gate g."""
    g = jax.nn.sigmoid(_affine(params, "g", h, x))
    c = jnp.tanh(_affine(params, "c", h, x))
    return g * h + (1.0 - g) * c


_STEPS: dict[str, Step] = {"vanilla": vanilla_step, "relu": relu_step, "gru": gru_step, "lstm": lstm_step,
                           "ugrnn": ugrnn_step}
_GATES = {"vanilla": ("",), "relu": ("",), "gru": ("z", "r", "h"), "lstm": ("i", "f", "g", "o"), "ugrnn": ("g", "c")}
# Gate biases at initialization: remembering gates start open so gradients reach early words.
_GATE_BIAS = {"z": 1.0, "f": 1.0, "g": 1.0}


def _check_cell(cell: str) -> str:
    if cell not in ARCHITECTURES:
        raise ValueError(f"cell must be one of {ARCHITECTURES}, got {cell!r}")
    return cell


def step(cell: str) -> Step:
    """The pure step ``h_next = step(params, h, x)`` of a cell named in :data:`ARCHITECTURES`."""
    return _STEPS[_check_cell(cell)]


def state_size(cell: str, hidden_size: int) -> int:
    """Length of the state vector: ``hidden_size``, or ``2 * hidden_size`` for the LSTM's (c, h)."""
    _check_cell(cell)
    hidden_size = checks.integer("hidden_size", hidden_size)
    return 2 * hidden_size if cell == "lstm" else hidden_size


def output(cell: str, state: jax.Array) -> jax.Array:
    """The part of the state the readout sees: h (the second half of the LSTM's (c, h))."""
    return jnp.split(state, 2, axis=-1)[1] if _check_cell(cell) == "lstm" else state


def init(cell: str, key: jax.Array, *, input_size: int, hidden_size: int) -> Params:
    """Initial parameters: W orthogonal, U ~ N(0, 1/m), biases 0 (remembering gates +1)."""
    _check_cell(cell)
    m = checks.integer("input_size", input_size)
    n = checks.integer("hidden_size", hidden_size)
    params = {}
    for gate, k in zip(_GATES[cell], jax.random.split(key, len(_GATES[cell]))):
        suffix = f"_{gate}" if gate else ""
        k_w, k_u = jax.random.split(k)
        params[f"W{suffix}"] = jax.nn.initializers.orthogonal()(k_w, (n, n))
        params[f"U{suffix}"] = jax.random.normal(k_u, (n, m)) / np.sqrt(m)
        params[f"b{suffix}"] = jnp.full((n,), _GATE_BIAS.get(gate, 0.0), dtype=jnp.float32)
    return params


def run(cell: str, params: Params, inputs: jax.Array, mask: jax.Array | None = None,
        initial: jax.Array | None = None, *, final_only: bool = False) -> jax.Array:
    """All states h_1 … h_T for inputs of shape (T, m), by ``lax.scan``; shape (T, state size).

    Where ``mask[t]`` is False (padding) the state is held: h_t = h_{t−1}. With
    ``final_only`` only h_T is returned (shape (state size,)) and no trajectory is stored.
    """
    update = step(cell)
    inputs = jnp.asarray(inputs)
    if inputs.ndim != 2:
        raise ValueError(f"inputs must have shape (T, input_size), got {inputs.shape}")
    n = next(value for name, value in params.items() if name.startswith("W")).shape[0]
    h0 = jnp.zeros(state_size(cell, n)) if initial is None else jnp.asarray(initial)
    mask = jnp.ones(inputs.shape[0], bool) if mask is None else jnp.asarray(mask, bool)
    if mask.shape != inputs.shape[:1]:
        raise ValueError(f"mask must have shape {inputs.shape[:1]}, got {mask.shape}")

    def advance(h, xm):
        x, keep = xm
        h_next = jnp.where(keep, update(params, h, x), h)
        return h_next, None if final_only else h_next

    last, trajectory = jax.lax.scan(advance, h0, (inputs, mask))
    return last if final_only else trajectory


class Cell(nnx.Module):
    """A recurrent cell as an NNX module; ``params`` holds the dict the pure step takes."""

    def __init__(self, cell: str, *, input_size: int, hidden_size: int, rngs: nnx.Rngs):
        self.kind = _check_cell(cell)
        self.input_size = checks.integer("input_size", input_size)
        self.hidden_size = checks.integer("hidden_size", hidden_size)
        self.params = nnx.Param(init(cell, rngs.params(), input_size=input_size, hidden_size=hidden_size))

    def weights(self) -> Params:
        """The parameter dict the pure step takes (``get_value()`` from Flax 0.12, ``.value`` before)."""
        get = getattr(self.params, "get_value", None)
        return get() if get is not None else self.params.value

    def __call__(self, h: jax.Array, x: jax.Array) -> jax.Array:
        return step(self.kind)(self.weights(), h, x)


class Recurrent(nnx.Module):
    """What every network here shares: a ``cell``, a linear ``readout`` of its output h, and the
    trained map in the pure forms the fixed-point analysis takes."""

    @property
    def kind(self) -> str:
        return self.cell.kind

    def transition(self) -> Callable[[jax.Array, jax.Array], jax.Array]:
        """The trained map (h, x) ↦ h' as a pure function of arrays (parameters captured now)."""
        params, update = self.cell.weights(), step(self.kind)
        return lambda h, x: update(params, h, x)

    def autonomous(self) -> Callable[[jax.Array], jax.Array]:
        """F(h) = h' with the input held at zero: the map whose fixed points we seek."""
        transition, zero = self.transition(), jnp.zeros(self.cell.input_size)
        return lambda h: transition(h, zero)

    def outputs(self, states: jax.Array) -> jax.Array:
        """Readout W_out h + b of states of any leading shape: (..., outputs)."""
        return self.readout(output(self.kind, states))

    def readout_weights(self) -> np.ndarray:
        """The readout matrix as (outputs, state size): zero on the LSTM's cell state c."""
        w = np.asarray(self.readout.kernel[...]).T
        return np.concatenate([np.zeros_like(w), w], axis=1) if self.kind == "lstm" else w

    def _run(self, inputs: jax.Array, mask: jax.Array, final_only: bool) -> jax.Array:
        params = self.cell.weights()
        return jax.vmap(lambda x, m: run(self.kind, params, x, m, final_only=final_only))(inputs, mask)


# Word vectors start this small: words the task never needs stay near x = 0, the input at
# which the fixed-point analysis linearizes the network.
WORD_INIT_SCALE = 0.0025


class Classifier(Recurrent):
    """Embedding → recurrent cell over the review → one logit w·h_T + b from the last state.

    Word vectors start N(0, ``WORD_INIT_SCALE``²), near x = 0.
    """

    def __init__(self, cell: str, *, vocab_size: int, embed_size: int, hidden_size: int, rngs: nnx.Rngs):
        vocab_size = checks.integer("vocab_size", vocab_size)
        embed_size = checks.integer("embed_size", embed_size)
        self.embedding = nnx.Embed(vocab_size, embed_size, rngs=rngs,
                                   embedding_init=nnx.initializers.normal(stddev=WORD_INIT_SCALE))
        self.cell = Cell(cell, input_size=embed_size, hidden_size=hidden_size, rngs=rngs)
        self.readout = nnx.Linear(hidden_size, 1, rngs=rngs)

    def readout_direction(self) -> np.ndarray:
        """The readout weights w as a vector in state space (zero on the LSTM's cell state c)."""
        return self.readout_weights()[0]

    def embed(self, tokens: jax.Array) -> jax.Array:
        """Word vectors x_t for token ids; the padding id maps to x = 0."""
        tokens = jnp.asarray(tokens)
        return jnp.where((tokens != PAD)[..., None], self.embedding(tokens), 0.0)

    def states(self, tokens: jax.Array, *, final_only: bool = False) -> jax.Array:
        """Hidden-state trajectories for token ids of shape (N, T): shape (N, T, state size).

        With ``final_only``, the last states only, shape (N, state size), without storing the rest.
        """
        tokens = _check_tokens(tokens)
        return self._run(self.embed(tokens), tokens != PAD, final_only)

    def logit(self, states: jax.Array) -> jax.Array:
        """Readout w·h + b of states of any leading shape."""
        return self.outputs(states)[..., 0]

    def __call__(self, tokens: jax.Array) -> jax.Array:
        """One logit per review (positive sentiment when > 0)."""
        return self.logit(self.states(tokens, final_only=True))


class SequenceModel(Recurrent):
    """A cell run over an input sequence and read out at every step, y_t = W_out h_t + b: the
    networks of the flip-flop, sine-wave and context-integration tasks (:mod:`neurotheory.tasks`)."""

    def __init__(self, cell: str, *, input_size: int, hidden_size: int, output_size: int, rngs: nnx.Rngs):
        self.cell = Cell(cell, input_size=input_size, hidden_size=hidden_size, rngs=rngs)
        self.readout = nnx.Linear(hidden_size, checks.integer("output_size", output_size), rngs=rngs)

    def states(self, inputs: jax.Array) -> jax.Array:
        """Hidden-state trajectories for inputs of shape (N, T, input size): (N, T, state size)."""
        inputs = jnp.asarray(inputs)
        if inputs.ndim != 3 or inputs.shape[-1] != self.cell.input_size:
            raise ValueError(f"inputs must have shape (N, T, {self.cell.input_size}), got {inputs.shape}")
        return self._run(inputs, jnp.ones(inputs.shape[:2], bool), False)

    def __call__(self, inputs: jax.Array) -> jax.Array:
        """Outputs at every step: (N, T, outputs)."""
        return self.outputs(self.states(inputs))


def _check_tokens(tokens) -> jax.Array:
    tokens = jnp.asarray(tokens)
    if tokens.ndim != 2 or not jnp.issubdtype(tokens.dtype, jnp.integer):
        raise ValueError(f"tokens must be an integer array of shape (reviews, T), got {tokens.dtype} {tokens.shape}")
    return tokens


def classification_loss(model: Classifier, tokens: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean binary cross-entropy of the logits against labels in {0, 1}."""
    return optax.sigmoid_binary_cross_entropy(model(tokens), labels).mean()


def sequence_loss(model: SequenceModel, inputs: jax.Array, targets: jax.Array, mask: jax.Array) -> jax.Array:
    """Masked mean squared error Σ_{n,t} m_{nt} ‖y_{nt} − target_{nt}‖² / (Σ m · outputs)."""
    error = jnp.sum((model(inputs) - targets) ** 2, axis=-1)
    return jnp.sum(mask * error) / (jnp.maximum(jnp.sum(mask), 1.0) * targets.shape[-1])


def l2_penalty(model: Recurrent) -> jax.Array:
    """Σ ‖W‖²_F over the cell's recurrent and input matrices (W_•, U_•), not biases or readout."""
    return sum(jnp.sum(value ** 2) for name, value in model.cell.weights().items() if name[0] in "WU")


LOSSES = {Classifier: classification_loss, SequenceModel: sequence_loss}


_GRAPHDEFS: dict = {}


def _split(model: Recurrent):
    """``nnx.split(model)`` with one graphdef object per architecture, and that architecture's key.

    Flax before 0.11 gives every instance an unequal graphdef, which would defeat the
    compiled-program cache (graphdefs are static arguments) and the population's shape check;
    the key (class, cell, state structure and leaf shapes) identifies the architecture instead.
    """
    graphdef, state = nnx.split(model)
    leaves, structure = jax.tree.flatten(state)
    key = (type(model).__name__, model.kind, str(structure), tuple((l.shape, str(l.dtype)) for l in leaves))
    return _GRAPHDEFS.setdefault(key, graphdef), state, key


@functools.partial(jax.jit, static_argnames="graphdef")
def _logits(graphdef, state, tokens: jax.Array) -> jax.Array:
    return nnx.merge(graphdef, state)(tokens)


def logits(model: Classifier, tokens, *, batch_size: int = 1024) -> np.ndarray:
    """The logit w·h_T + b of each review, token ids of shape (N, T), ``batch_size`` reviews at a time.

    Memory grows with the batch, not with N; every batch has the same shape (the last is
    padded) and the program is compiled once per network shape, not once per network.
    """
    if not isinstance(model, Classifier):
        raise ValueError(f"model must be an rnn.Classifier, got {type(model).__name__}")
    tokens = np.asarray(_check_tokens(tokens))
    if len(tokens) == 0:
        raise ValueError("tokens must hold at least one review")
    batch_size = min(checks.integer("batch_size", batch_size), len(tokens))
    graphdef, state, _ = _split(model)
    padded = np.pad(tokens, ((0, -len(tokens) % batch_size), (0, 0)), constant_values=PAD)
    return np.concatenate([np.asarray(_logits(graphdef, state, padded[i:i + batch_size]))
                           for i in range(0, len(padded), batch_size)])[:len(tokens)]


def predict(model: Classifier, tokens, *, batch_size: int = 1024) -> np.ndarray:
    """Predicted labels (1 = positive) for token ids of shape (N, T), in batches."""
    return (logits(model, tokens, batch_size=batch_size) > 0).astype(int)


def accuracy(model: Classifier, tokens, labels) -> float:
    """Fraction of reviews classified correctly."""
    labels = np.asarray(labels)
    if labels.shape != (np.shape(tokens)[0],):
        raise ValueError(f"labels must have shape ({np.shape(tokens)[0]},), got {labels.shape}")
    return float(np.mean(predict(model, tokens) == labels))


def _optimizer(learning_rate, embedding_decay: float) -> optax.GradientTransformation:
    """Adam with gradients clipped to global norm 1 and decoupled weight decay on the word vectors only.

    ``learning_rate`` may be a traced scalar (one per network of a population)."""
    def is_embedding(params):
        return jax.tree_util.tree_map_with_path(lambda path, _: "embedding" in jax.tree_util.keystr(path), params)

    return optax.chain(optax.clip_by_global_norm(1.0),
                       optax.adamw(learning_rate, weight_decay=embedding_decay, mask=is_embedding))


@functools.partial(jax.jit, static_argnames=("graphdef", "loss", "batch_size", "embedding_decay"))
def _train_chunk(graphdef, params, opt_state, keys, learning_rates, l2s, data, *, loss, batch_size,
                 embedding_decay):
    """``keys.shape[1]`` Adam steps for each network of a stacked population, by ``vmap`` over ``lax.scan``.

    Network i minimizes loss(model_i, *minibatch) + l2s[i] · Σ‖W‖² with learning rate
    learning_rates[i]; each step's minibatch is ``batch_size`` random rows of every array in ``data``.
    """
    def one_network(params, opt_state, keys, learning_rate, l2):
        optimizer = _optimizer(learning_rate, embedding_decay)

        def objective(p, batch):
            model = nnx.merge(graphdef, p)
            return loss(model, *batch) + l2 * l2_penalty(model)

        def one_step(carry, key):
            params, opt_state = carry
            rows = jax.random.randint(key, (batch_size,), 0, data[0].shape[0])
            value, grads = jax.value_and_grad(objective)(params, tuple(a[rows] for a in data))
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), value

        return jax.lax.scan(one_step, (params, opt_state), keys)

    return jax.vmap(one_network)(params, opt_state, keys, learning_rates, l2s)


def _per_network(name: str, value, count: int, *, allow_zero: bool) -> np.ndarray:
    """A hyperparameter given once for all networks, or once per network: a float32 vector (count,)."""
    values = [value] * count if np.isscalar(value) else list(value)
    if len(values) != count:
        raise ValueError(f"{name} must be one number or one per model ({count}), got {len(values)}")
    return np.asarray([checks.number(name, v, allow_zero=allow_zero) for v in values], np.float32)


def train_population(models: list[Recurrent], *data, steps: int, batch_size: int = 64,
                     learning_rate=3e-3, l2=0.0, embedding_decay: float = 0.0, seeds=None, loss=None,
                     chunk: int = 100) -> np.ndarray:
    """Fit networks of one shape together, in place, each on its own minibatches; losses (networks, steps).

    ``data`` are arrays with one row per training example — ``tokens, labels`` for
    :class:`Classifier`, ``inputs, targets, mask`` (a :class:`neurotheory.tasks.Batch`) for
    :class:`SequenceModel` — and ``loss(model, *rows)`` the objective (by default
    :func:`classification_loss` or :func:`sequence_loss`, from the models' class). The networks'
    parameters are stacked and every step runs for all of them at once under ``vmap``, one
    compiled program per shape and setting, reused by later calls; the network axis is split
    over all local devices with ``jax.sharding`` (one GPU, several, or CPU devices forced with
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N``), so more hardware trains more
    networks with no code change; across hosts, call ``jax.distributed.initialize()`` first.
    Network i draws its minibatches from ``runtime.key(seeds[i])`` (default seeds 0, 1, …).
    ``learning_rate`` and ``l2`` (a penalty l2 · Σ‖W‖² on the cell's matrices) are one number or
    one per network. ``embedding_decay`` is AdamW's decoupled weight decay on word vectors only.
    Steps run ``chunk`` at a time inside one ``lax.scan``, with a progress bar over chunks;
    gradients are clipped to global norm 1.
    """
    models = list(models)
    if not models or not all(isinstance(model, Recurrent) for model in models):
        raise ValueError("models must be a non-empty list of rnn.Classifier or rnn.SequenceModel")
    kind = type(models[0])
    if loss is None:
        loss = LOSSES[kind]
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {type(loss).__name__}")
    if kind is Classifier:
        if len(data) != 2:
            raise ValueError(f"a Classifier trains on data (tokens, labels), got {len(data)} arrays")
        data = (_check_tokens(data[0]), jnp.asarray(data[1], jnp.float32))
        if data[1].shape != data[0].shape[:1]:
            raise ValueError(f"labels must have shape {data[0].shape[:1]}, got {data[1].shape}")
    else:
        data = tuple(jnp.asarray(a) for a in data)
    if not data or any(a.ndim == 0 or a.shape[0] != data[0].shape[0] for a in data):
        raise ValueError(f"data must be arrays with one row per example, got shapes {[a.shape for a in data]}")
    steps = checks.integer("steps", steps)
    batch_size = checks.integer("batch_size", batch_size)
    chunk = checks.integer("chunk", chunk)
    embedding_decay = checks.number("embedding_decay", embedding_decay, allow_zero=True)
    count = len(models)
    learning_rates = _per_network("learning_rate", learning_rate, count, allow_zero=False)
    l2s = _per_network("l2", l2, count, allow_zero=True)
    seeds = list(range(count)) if seeds is None else [checks.integer("seeds", s, 0) for s in seeds]
    if len(seeds) != count:
        raise ValueError(f"seeds must have one entry per model ({count}), got {len(seeds)}")
    splits = [_split(model) for model in models]
    graphdef, _, architecture = splits[0]
    if any(key != architecture for _, _, key in splits):
        raise ValueError("models must share one architecture (cell, sizes) to train as a population")
    stack, replicated = runtime.network_sharding(count)
    params = stack([p for _, p, _ in splits])
    learning_rates, l2s = stack(list(learning_rates)), stack(list(l2s))
    opt_state = jax.vmap(_optimizer(1.0, embedding_decay).init)(params)
    keys = stack([jax.random.split(runtime.key(seed), steps) for seed in seeds])
    data = jax.device_put(data, replicated)
    losses = []
    for start in runtime.progress(range(0, steps, chunk), desc=f"training {count} × {models[0].kind}",
                                  total=-(-steps // chunk)):
        (params, opt_state), values = _train_chunk(
            graphdef, params, opt_state, keys[:, start:start + chunk], learning_rates, l2s, data,
            loss=loss, batch_size=batch_size, embedding_decay=embedding_decay)
        losses.append(np.asarray(values))
    for i, model in enumerate(models):
        nnx.update(model, jax.tree.map(lambda leaf: leaf[i], params))
    history = np.concatenate(losses, axis=1)[:count]
    if not np.all(np.isfinite(history)):
        raise FloatingPointError("training diverged (non-finite loss); lower learning_rate")
    return history


def train(model: Recurrent, *data, steps: int, batch_size: int = 64, learning_rate: float = 3e-3,
          l2: float = 0.0, embedding_decay: float = 0.0, seed: int = 0, loss=None, chunk: int = 100) -> np.ndarray:
    """Fit one ``model`` in place with Adam on random minibatches of ``data``; the loss at every step.

    A population of one (:func:`train_population`), so repeated calls on networks of the same
    shape reuse one compiled program.
    """
    if not isinstance(model, Recurrent):
        raise ValueError(f"model must be an rnn.Classifier or rnn.SequenceModel, got {type(model).__name__}")
    return train_population([model], *data, steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                            l2=l2, embedding_decay=embedding_decay, seeds=[checks.integer("seed", seed, 0)],
                            loss=loss, chunk=chunk)[0]
