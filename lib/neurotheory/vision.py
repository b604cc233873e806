"""Early vision: an anatomically constrained CNN, its receptive fields and their shape indices.

Lindsey, Ocko, Ganguli & Deny (ICLR 2019) model the visual system as a CNN whose first two
convolutional layers are the retina and whose next layers are the ventral visual stream
(VVS). The retina's second layer is the optic nerve: ``n_bottleneck`` channels. Every layer
is a 9 × 9 convolution ('same' padding, stride 1, ReLU), so a unit of layer ℓ at pixel p sees
the image through a (8ℓ + 1)² window around p::

    image (32 × 32 × 1) → retina_1 (32 ch) → retina_2 (N_bn ch) → vvs_1 … vvs_D (32 ch)
                        → dense (1024, ReLU) → logits (10)

The paper's receptive field of a channel is the gradient of its centre unit's response with
respect to the image at a blank stimulus (the zero input: black for the authors' inputs in
[0, 1], mid-gray for ours, which are centred, see :func:`to_input`); :func:`center_surround_index` and
:func:`orientedness` turn a receptive field into one number each, and :func:`linearity` and
:func:`linear_decoding` measure how linear and how faithful a layer's code is (the paper's
second result).
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from neurotheory import checks, runtime

SIDE = 32
KERNEL = 9
CLASSES = 10
# A list of layers inside a module: nnx.List from Flax 0.12 on, a plain list before.
_Layers = getattr(nnx, "List", list)


def to_input(images, channels: int = 1) -> jax.Array:
    """Images (n, H, W, C) as a network's float32 input (n, H, W, ``channels``), mid-gray at 0.

    uint8 images are scaled by 1/255; for ``channels = 1`` colour images become the mean of
    their channels (the retina paper's grayscale CIFAR-10), ``channels = 3`` keeps the colour
    of colour images; then 0.5 is subtracted, so a blank mid-gray image is zero.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (n, H, W, 1 or 3), got {images.shape}")
    if channels not in (1, 3) or channels > images.shape[-1]:
        raise ValueError(f"channels must be 1, or 3 for colour images, got {channels} for images with "
                         f"{images.shape[-1]} channel(s)")
    scaled = images / 255.0 if images.dtype == np.uint8 else images.astype(np.float64)
    if channels == 1:
        scaled = scaled.mean(axis=-1, keepdims=True)
    return jnp.asarray(scaled - 0.5, jnp.float32)


class RetinaNet(nnx.Module):
    """The retina–VVS network: two retina layers, ``vvs_depth`` VVS layers, a dense layer, a readout.

    ``n_bottleneck`` is the number of retina_2 channels (the optic nerve), ``width`` the
    channels of every other convolutional layer, ``dense`` the hidden units before the
    ``classes``-way readout. Convolutions and the dense layer use Keras' Glorot-uniform
    initialisation with zero biases, as the paper's code does. ``layer_names`` lists the layers
    :meth:`activations` returns.
    """

    def __init__(self, n_bottleneck: int, vvs_depth: int, *, rngs: nnx.Rngs, width: int = 32,
                 kernel: int = KERNEL, dense: int = 1024, classes: int = CLASSES, side: int = SIDE):
        checks.integer("n_bottleneck", n_bottleneck)
        checks.integer("vvs_depth", vvs_depth, minimum=0)
        checks.integer("width", width)
        checks.integer("kernel", kernel)
        checks.integer("dense", dense)
        checks.integer("classes", classes, minimum=2)
        checks.integer("side", side, minimum=kernel)
        if not isinstance(rngs, nnx.Rngs):
            raise TypeError(f"rngs must be an nnx.Rngs, got {type(rngs).__name__}")
        self.n_bottleneck, self.vvs_depth, self.side = n_bottleneck, vvs_depth, side
        channels = [1, width, n_bottleneck] + [width] * vvs_depth
        glorot = nnx.initializers.glorot_uniform()
        self.convs = _Layers([nnx.Conv(c_in, c_out, (kernel, kernel), padding="SAME", kernel_init=glorot,
                                       rngs=rngs) for c_in, c_out in zip(channels[:-1], channels[1:])])
        self.hidden = nnx.Linear(side * side * channels[-1], dense, kernel_init=glorot, rngs=rngs)
        self.readout = nnx.Linear(dense, classes, kernel_init=glorot, rngs=rngs)
        self.layer_names = ("retina_1", "retina_2", *(f"vvs_{i + 1}" for i in range(vvs_depth)), "dense")
        self.in_channels, self.label = 1, f"N_bn={n_bottleneck}, VVS depth {vvs_depth}"

    def activations(self, x: jax.Array) -> dict[str, jax.Array]:
        """Every layer's ReLU response to input ``x`` (n, side, side, 1), by name, and the logits."""
        responses = {}
        for name, conv in zip(self.layer_names, self.convs):
            x = responses[name] = jax.nn.relu(conv(x))
        x = responses["dense"] = jax.nn.relu(self.hidden(x.reshape(x.shape[0], -1)))
        responses["logits"] = self.readout(x)
        return responses

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits (n, classes) for input ``x`` (n, side, side, 1) (see :func:`to_input`)."""
        return self.activations(x)["logits"]


def count_params(model: nnx.Module) -> int:
    """The number of trainable scalars (every ``nnx.Param``) in ``model``.

    Works on an abstract model too: ``count_params(nnx.eval_shape(lambda: RetinaNet(...)))``
    counts a paper-size network without allocating it.
    """
    if not isinstance(model, nnx.Module):
        raise TypeError(f"model must be an nnx.Module, got {type(model).__name__}")
    return int(sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))))


def _check_model(model) -> RetinaNet:
    if not isinstance(model, RetinaNet):
        raise TypeError(f"model must be a vision.RetinaNet, got {type(model).__name__}")
    return model


def _check_layer(model: RetinaNet, layer: str) -> str:
    if layer not in model.layer_names:
        raise ValueError(f"layer={layer!r} is not one of this model's layers {model.layer_names}")
    return layer


# ----------------------------------------------------------------------------- training

def classification_loss(model, x: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy of the logits against integer labels.

    For a :class:`ConvRNN` the logits are those of the last step the image is shown
    (:meth:`ConvRNN.decision_logits`).
    """
    logits = model.decision_logits(x) if isinstance(model, ConvRNN) else model(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def augment(key: jax.Array, x: jax.Array, shift: int = 3) -> jax.Array:
    """The paper's augmentation: each image shifted by up to ``shift`` pixels in each direction
    (edge pixels repeated, Keras' 'nearest' fill) and flipped left–right with probability ½."""
    n, side = x.shape[0], x.shape[1]
    k_shift, k_flip = jax.random.split(key)
    corners = jax.random.randint(k_shift, (n, 2), 0, 2 * shift + 1)
    padded = jnp.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
    crop = lambda image, corner: jax.lax.dynamic_slice(image, (corner[0], corner[1], 0),
                                                       (side, side, x.shape[3]))
    shifted = jax.vmap(crop)(padded, corners)
    flip = jax.random.bernoulli(k_flip, 0.5, (n, 1, 1, 1))
    return jnp.where(flip, shifted[:, :, ::-1], shifted)


def _optimizer(learning_rate) -> optax.GradientTransformation:
    """RMSprop (ρ = 0.9, ε = 1e-7), Keras' defaults, which the paper's code uses at learning rate 1e-4."""
    return optax.rmsprop(learning_rate, decay=0.9, eps=1e-7)


def _step(graphdef, params, opt_state, key, learning_rate, x, labels, batch_size: int, shift: int):
    """One RMSprop step of one network on ``batch_size`` random (augmented) rows of ``x``."""
    k_rows, k_augment = jax.random.split(key)
    rows = jax.random.randint(k_rows, (batch_size,), 0, x.shape[0])
    batch = augment(k_augment, x[rows], shift) if shift else x[rows]
    loss = lambda p: classification_loss(nnx.merge(graphdef, p), batch, labels[rows])
    value, grads = jax.value_and_grad(loss)(params)
    updates, opt_state = _optimizer(learning_rate).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value


_cpu_step = jax.jit(_step, static_argnames=("graphdef", "batch_size", "shift"))


@functools.partial(jax.jit, static_argnames=("graphdef", "batch_size", "shift"))
def _population_chunk(graphdef, params, opt_state, keys, learning_rate, x, labels, batch_size, shift):
    """``keys.shape[1]`` steps of every network of a stacked population: ``vmap`` of ``lax.scan``."""
    def one_network(params, opt_state, keys):
        def one_step(carry, key):
            params, opt_state, value = _step(graphdef, *carry, key, learning_rate, x, labels, batch_size, shift)
            return (params, opt_state), value

        return jax.lax.scan(one_step, (params, opt_state), keys)

    return jax.vmap(one_network)(params, opt_state, keys)


def train_population(models: Sequence[RetinaNet | ConvRNN], images, labels, *, steps: int, batch_size: int = 64,
                     learning_rate: float = 1e-4, shift: int = 3, seeds=None, chunk: int = 100) -> np.ndarray:
    """Train networks of one architecture, in place; the loss of each at every step (networks, steps).

    ``models`` are :class:`RetinaNet` or :class:`ConvRNN` networks of one shape. Network i
    draws minibatches of ``batch_size`` images, augmented by :func:`augment` (``shift = 0``
    turns it off), from ``runtime.key(seeds[i])``; RMSprop at ``learning_rate``
    (the paper: 1e-4, batch 64, 20 epochs of CIFAR-10). ``images`` go through :func:`to_input`.
    On a GPU the parameters are stacked and ``chunk`` steps of all networks run as one
    ``vmap`` of ``lax.scan``, the network axis split over the local devices
    (:func:`runtime.network_sharding`). On a CPU each network takes one compiled step at a time:
    XLA's CPU backend runs these convolutions about four times slower inside a ``lax.scan``
    and ten times slower batched under ``vmap`` (as grouped convolutions).
    """
    models = list(models)
    if not models or not all(isinstance(m, (RetinaNet, ConvRNN)) for m in models):
        raise ValueError("models must be a non-empty list of vision.RetinaNet or vision.ConvRNN")
    x = to_input(images, models[0].in_channels)
    labels = jnp.asarray(labels, jnp.int32)
    if labels.shape != x.shape[:1]:
        raise ValueError(f"labels must have shape {x.shape[:1]}, got {labels.shape}")
    steps, batch_size, chunk = (checks.integer(n, v) for n, v in
                                (("steps", steps), ("batch_size", batch_size), ("chunk", chunk)))
    shift = checks.integer("shift", shift, minimum=0)
    learning_rate = checks.number("learning_rate", learning_rate)
    seeds = list(range(len(models))) if seeds is None else [checks.integer("seeds", s, 0) for s in seeds]
    if len(seeds) != len(models):
        raise ValueError(f"seeds must have one entry per model ({len(models)}), got {len(seeds)}")
    splits = [nnx.split(m) for m in models]
    if len({tuple(leaf.shape for leaf in jax.tree.leaves(state)) for _, state in splits}) != 1:
        raise ValueError("models must share one architecture to train as a population")
    graphdef = splits[0][0]
    keys = [jax.random.split(runtime.key(seed), steps) for seed in seeds]
    name = f"{len(models)} × {models[0].label}"
    if runtime.has_accelerator():
        stack, replicated = runtime.network_sharding(len(models))
        params = stack([state for _, state in splits])
        opt_state = jax.vmap(_optimizer(learning_rate).init)(params)
        keys, (x, labels) = stack(keys), jax.device_put((x, labels), replicated)
        losses = []
        for start in runtime.progress(range(0, steps, chunk), desc=f"training {name}", total=-(-steps // chunk)):
            (params, opt_state), values = _population_chunk(graphdef, params, opt_state, keys[:, start:start + chunk],
                                                            learning_rate, x, labels, batch_size, shift)
            losses.append(np.asarray(values))
        history = np.concatenate(losses, axis=1)[:len(models)]
        for i, model in enumerate(models):
            nnx.update(model, jax.tree.map(lambda leaf: leaf[i], params))
    else:
        losses = []                                 # device scalars, read once at the end
        for i in runtime.progress(range(len(models) * steps), desc=f"training {name}"):
            network, step = divmod(i, steps)
            if step == 0:
                params = splits[network][1]
                opt_state = _optimizer(learning_rate).init(params)
            params, opt_state, value = _cpu_step(graphdef, params, opt_state, keys[network][step],
                                                 learning_rate, x, labels, batch_size, shift)
            losses.append(value)
            if step == steps - 1:
                nnx.update(models[network], params)
        history = np.asarray(jnp.stack(losses)).reshape(len(models), steps)
    if not np.all(np.isfinite(history)):
        raise FloatingPointError("training diverged (non-finite loss); lower learning_rate")
    return history


@functools.partial(jax.jit, static_argnames="graphdef")
def _forward(graphdef, state, x):
    return nnx.merge(graphdef, state).activations(x)


def responses(model: RetinaNet, images, *, batch_size: int = 500) -> dict[str, np.ndarray]:
    """Every layer's responses (and the logits) to ``images``, computed ``batch_size`` at a time."""
    _check_model(model)
    x = to_input(images)
    batch_size = checks.integer("batch_size", batch_size)
    graphdef, state = nnx.split(model)
    parts = [_forward(graphdef, state, x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    return {name: np.concatenate([np.asarray(p[name]) for p in parts]) for name in parts[0]}


def accuracy(model: RetinaNet, images, labels) -> float:
    """Fraction of ``images`` whose largest logit is the label."""
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
    return float(np.mean(responses(model, images)["logits"].argmax(axis=1) == labels))


# ----------------------------------------------------------------------------- receptive fields

def _channels(model: RetinaNet, layer: str) -> int:
    if layer == "retina_2":
        return model.n_bottleneck
    return model.hidden.out_features if layer == "dense" else model.convs[0].out_features


def _probe_images(model: RetinaNet, samples: int, scale: float, seed: int) -> jax.Array:
    """The blank image (``samples = 0``) or ``samples`` small random images N(0, scale²)."""
    checks.integer("samples", samples, minimum=0)
    checks.number("scale", scale)
    checks.integer("seed", seed, minimum=0)
    side = model.side
    if samples:
        return scale * jax.random.normal(runtime.key(seed), (samples, side, side, 1))
    return jnp.zeros((1, side, side, 1))


def receptive_field(model: RetinaNet, layer: str, channel: int, *, samples: int = 0, scale: float = 0.1,
                    seed: int = 0) -> np.ndarray:
    """The receptive field of ``channel`` of ``layer``: ∂r/∂x for its unit at the image centre.

    With ``samples = 0`` the gradient is taken at the zero input x = 0 (mid-gray here; the
    paper's first-order receptive field, whose zero input is black). With ``samples > 0`` it is the mean gradient over that many
    small random images x ~ N(0, scale²) (``runtime.key(seed)``): the spike-triggered-average
    view, which also sees units that the blank image leaves silent. For ``layer="dense"``,
    ``channel`` is the hidden unit. Returns a (side, side) array.
    """
    _check_model(model)
    _check_layer(model, layer)
    channels = _channels(model, layer)
    checks.integer("channel", channel, minimum=0)
    if channel >= channels:
        raise ValueError(f"channel must be below {channels} for layer {layer!r}, got {channel}")
    x = _probe_images(model, samples, scale, seed)
    graphdef, state = nnx.split(model)
    return np.asarray(_mean_gradient(graphdef, state, x, layer, jnp.asarray([channel])))[0, :, :, 0]


def receptive_fields(model: RetinaNet, layer: str, *, samples: int = 0, scale: float = 0.1,
                     seed: int = 0) -> np.ndarray:
    """:func:`receptive_field` of every channel of ``layer`` at once: (channels, side, side).

    All channels see the same probe images. A channel that is silent on all of them has an
    all-zero receptive field (the shape indices reject it; :func:`live_channels` finds them).
    """
    _check_model(model)
    _check_layer(model, layer)
    x = _probe_images(model, samples, scale, seed)
    graphdef, state = nnx.split(model)
    return np.asarray(_mean_gradient(graphdef, state, x, layer, jnp.arange(_channels(model, layer))))[..., 0]


def live_channels(fields) -> np.ndarray:
    """Indices of the receptive fields (channels, H, W) that are not identically zero."""
    fields = np.asarray(fields)
    if fields.ndim != 3:
        raise ValueError(f"fields must have shape (channels, H, W), got {fields.shape}")
    return np.flatnonzero(np.any(fields != 0, axis=(1, 2)))


@functools.partial(jax.jit, static_argnames=("graphdef", "layer"))
def _mean_gradient(graphdef, state, x, layer, channels):
    """Mean over images ``x`` of ∂r_c/∂x for the centre unit of each channel c in ``channels``."""
    def response(image, channel):
        r = nnx.merge(graphdef, state).activations(image[None])[layer][0]
        return r[channel] if layer == "dense" else r[r.shape[0] // 2, r.shape[1] // 2, channel]

    per_channel = lambda c: jax.vmap(jax.grad(response), in_axes=(0, None))(x, c).mean(axis=0)
    return jax.vmap(per_channel)(channels)


def _check_filter(rf) -> np.ndarray:
    rf = np.asarray(rf, np.float64)
    if rf.ndim != 2 or min(rf.shape) < 3:
        raise ValueError(f"rf must be a 2-D filter of at least 3 × 3, got shape {rf.shape}")
    if not np.all(np.isfinite(rf)):
        raise ValueError("rf must be finite")
    return rf


def _energy_center(rf: np.ndarray) -> np.ndarray:
    weights = rf ** 2 / np.sum(rf ** 2)
    rows, cols = np.indices(rf.shape)
    return np.array([np.sum(weights * rows), np.sum(weights * cols)])


def radial_profile(rf, center=None) -> tuple[np.ndarray, np.ndarray]:
    """The filter's mean over rings of unit width around ``center`` (default: its energy centroid).

    Returns (profile p(ρ) for ρ = 0, 1, 2, … pixels, pixel count of each ring). The filter
    R_iso(x) = p(round |x − c|) is the projection of R onto functions of the distance alone.
    """
    rf = _check_filter(rf)
    if not np.any(rf):
        raise ValueError("rf is identically zero (a silent unit has no receptive field)")
    center = _energy_center(rf) if center is None else np.asarray(center, np.float64)
    rows, cols = np.indices(rf.shape)
    rings = np.rint(np.hypot(rows - center[0], cols - center[1])).astype(int).ravel()
    counts = np.bincount(rings)
    sums = np.bincount(rings, weights=rf.ravel())
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0), counts


def center_surround_index(rf, center=None) -> float:
    """How centre-surround a filter is: isotropy × antagonism, between 0 and 1.

    isotropy = ‖R_iso‖² / ‖R‖² (the share of the filter's energy that is a function of the
    distance from the centre alone, :func:`radial_profile`), and
    antagonism = S / C, capped at 1, where C is the total weight of the centre lobe (the rings
    out to the first sign change of p(ρ)) and S that of the rings of the opposite sign beyond
    it. A difference of Gaussians with a balanced surround scores near 1; a Gaussian blob
    (no surround), an odd-phase Gabor or white noise score near 0. An even-phase Gabor (a
    bright bar between dark flanks) keeps an isotropic centre and surround in its ring means
    and scores in between (0.36 for a few cycles under its envelope), so read the index
    together with :func:`orientedness`: centre-surround means a high index *and* an
    orientedness near 1.
    """
    rf = _check_filter(rf)
    profile, counts = radial_profile(rf, center)
    isotropy = np.sum(counts * profile ** 2) / np.sum(rf ** 2)
    weight = counts * profile
    sign = np.sign(profile[np.flatnonzero(profile)[0]])
    flips = np.flatnonzero(np.sign(profile) == -sign)
    if flips.size == 0:
        return 0.0
    centre = abs(np.sum(weight[:flips[0]]))
    surround = abs(np.sum(weight[flips[0]:][np.sign(profile[flips[0]:]) == -sign]))
    return float(isotropy * min(surround / max(centre, np.finfo(float).tiny), 1.0))


@functools.lru_cache(maxsize=8)
def _bars(shape: tuple[int, int], orientations: int, widths: tuple[int, ...]) -> np.ndarray:
    """Centred bar stimuli (orientations, widths, phases, H·W): 1 on a strip, 0 off it, mean removed."""
    rows, cols = np.indices(shape)
    rows, cols = rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2
    angles = np.pi * np.arange(orientations) / orientations
    reach = int(np.ceil(np.hypot(*shape) / 2))
    offsets = np.arange(-reach, reach + 1)
    normal = (np.cos(angles)[:, None, None] * cols + np.sin(angles)[:, None, None] * rows)
    bars = ((normal[:, None, None] >= offsets[None, None, :, None, None])
            & (normal[:, None, None] < offsets[None, None, :, None, None]
               + np.asarray(widths)[None, :, None, None, None])).astype(np.float64)
    bars = bars.reshape(orientations, len(widths), len(offsets), -1)
    return bars - bars.mean(axis=-1, keepdims=True)


def orientation_tuning(rf, *, orientations: int = 36, widths: Sequence[int] = (1, 2, 3, 4, 6, 8)) -> tuple[np.ndarray, np.ndarray]:
    """The filter's best response to a bar at each orientation, at its preferred bar width.

    A bar is a strip of ``width`` pixels crossing the whole image at angle θ ∈ [0, π); its
    response is |⟨bar − mean, R − R̄⟩| / (H·W), maximised over the strip's position (phase).
    The preferred width is the one with the largest response at any orientation. Returns
    (angles θ in radians, responses (orientations,)).
    """
    rf = _check_filter(rf)
    checks.integer("orientations", orientations, minimum=4)
    if orientations % 2:
        raise ValueError(f"orientations must be even (so each has its orthogonal), got {orientations}")
    widths = tuple(checks.integer("widths", w) for w in widths)
    bars = _bars(rf.shape, orientations, widths)
    scores = np.abs(bars @ (rf - rf.mean()).ravel()).max(axis=2) / rf.size   # (orientations, widths)
    best_width = np.unravel_index(np.argmax(scores), scores.shape)[1]
    return np.pi * np.arange(orientations) / orientations, scores[:, best_width]


def orientedness(rf, **options) -> float:
    """Preferred over orthogonal response, S(θ*) / S(θ* + 90°), from :func:`orientation_tuning`.

    1 for an isotropic filter (a disc, a difference of Gaussians); large for an oriented one
    (a Gabor, a bar). ``options`` go to :func:`orientation_tuning`. An all-zero filter raises.
    """
    angles, scores = orientation_tuning(rf, **options)
    if not np.any(scores):
        raise ValueError("rf is constant (a silent unit has no orientation)")
    best = int(np.argmax(scores))
    orthogonal = scores[(best + len(scores) // 2) % len(scores)]
    return float(scores[best] / max(orthogonal, np.finfo(float).tiny))


def power_spectrum_slope(images, *, band: tuple[float, float] = (0.05, 0.4)) -> float:
    """The exponent α of the images' mean power spectrum, P(f) ∝ f^α, fit in log–log.

    ``images`` are (n, H, W, C) (through :func:`to_input`) or (n, H, W) arrays (filtered
    images, say); each image's mean is removed, |FFT|² is averaged over images and the line
    is fit over the spatial frequencies f = |(f_x, f_y)| inside ``band`` (cycles per pixel).
    Natural images give α near −2 (power falling as 1/f²); white noise gives 0, and a
    whitening filter (centre-surround) brings α towards 0.
    """
    images = np.asarray(images)
    x = np.asarray(to_input(images))[..., 0] if images.ndim == 4 else images.astype(np.float64)
    if x.ndim != 3 or min(x.shape[1:]) < 4:
        raise ValueError(f"images must have shape (n, H, W) or (n, H, W, C) with H, W ≥ 4, got {images.shape}")
    low, high = (checks.number("band", b) for b in band)
    if not low < high <= 0.5:
        raise ValueError(f"band must satisfy 0 < low < high ≤ 0.5 cycles per pixel, got {band}")
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(x)) ** 2).mean(axis=0)
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(x.shape[1]), np.fft.fftfreq(x.shape[2]), indexing="ij"))
    keep = (f > low) & (f < high) & (power > 0)
    return float(np.polyfit(np.log(f[keep]), np.log(power[keep]), 1)[0])


# ----------------------------------------------------------------------------- linearity

def _ridge_r2(train_x, train_y, test_x, test_y, ridge: float) -> float:
    """Share of test-set variance in y explained by the ridge regression y ≈ W x + b fit on train."""
    mx, my = train_x.mean(0), train_y.mean(0)
    a, b = train_x - mx, train_y - my
    primal = a.shape[1] <= a.shape[0]               # else the dual form, for more features than samples
    gram = a.T @ a if primal else a @ a.T
    shrink = ridge * max(np.trace(gram) / len(gram), np.finfo(float).tiny) * np.eye(len(gram))
    coef = np.linalg.solve(gram + shrink, a.T @ b) if primal else a.T @ np.linalg.solve(gram + shrink, b)
    residual = test_y - my - (test_x - mx) @ coef
    return float(1 - np.sum(residual ** 2) / np.sum((test_y - test_y.mean(0)) ** 2))


def _split_half(images) -> int:
    if len(images) < 20:
        raise ValueError(f"images must hold at least 20 images (half fit, half test), got {len(images)}")
    return len(images) // 2


def _center_window(a: np.ndarray, radius: int) -> np.ndarray:
    """The (2·radius + 1)² window of every channel around the centre pixel, flattened per image."""
    c0, c1 = a.shape[1] // 2, a.shape[2] // 2
    return a[:, c0 - radius:c0 + radius + 1, c1 - radius:c1 + radius + 1].reshape(len(a), -1)


def linearity(model: RetinaNet, layer: str, images, *, ridge: float = 1e-3) -> float:
    """Share of the variance of ``layer``'s centre units that a linear function of the image explains.

    For every channel, the response r_c of its unit at the image centre is regressed on the
    pixels inside that unit's receptive-field window (ridge ``ridge`` relative to the mean
    eigenvalue), fit on the first half of ``images`` and scored on the second:
    1 − Σ‖r − r̂‖² / Σ‖r − r̄‖² over channels and test images. 1 means a linear filter.
    """
    _check_model(model)
    _check_layer(model, layer)
    if layer == "dense":
        raise ValueError("linearity is defined for convolutional layers (retina_*, vvs_*)")
    checks.number("ridge", ridge)
    half = _split_half(images)
    r = responses(model, images)[layer]
    y = r[:, r.shape[1] // 2, r.shape[2] // 2, :]
    radius = min(4 * (model.layer_names.index(layer) + 1), model.side // 2 - 1)
    x = _center_window(np.asarray(to_input(images)), radius)
    return _ridge_r2(x[:half], y[:half], x[half:], y[half:], ridge)


def linear_decoding(model: RetinaNet, layer: str, images, *, radius: int = 4, ridge: float = 1e-3) -> float:
    """Share of the image's variance that a linear decoder recovers from ``layer``'s responses.

    The target is the (2·radius + 1)² patch of pixels at the image centre; the decoder reads
    every channel of ``layer`` in the window of the same radius plus 4 pixels around the
    centre. Fit on the first half of ``images`` (ridge ``ridge``), scored on the second.
    """
    _check_model(model)
    _check_layer(model, layer)
    if layer == "dense":
        raise ValueError("linear_decoding is defined for convolutional layers (retina_*, vvs_*)")
    checks.integer("radius", radius, minimum=0)
    checks.number("ridge", ridge)
    if radius + 4 >= model.side // 2:
        raise ValueError(f"radius must be below {model.side // 2 - 4}, got {radius}")
    half = _split_half(images)
    features = _center_window(responses(model, images)[layer], radius + 4)
    target = _center_window(np.asarray(to_input(images)), radius)
    return _ridge_r2(features[:half], target[:half], features[half:], target[half:], ridge)


# ----------------------------------------------------------------------------- convolutional recurrent networks
#
# Nayebi, Bear, Kubilius, Kar, Ganguli, Sussillo, DiCarlo & Yamins (NeurIPS 2018) put a local
# recurrent cell into every layer of a convolutional network and unroll it over time. Here each
# layer ℓ computes its feedforward drive u = W_ℓ ∗ (input from below) + b_ℓ, and its cell turns
# the drive and its own previous state into the layer's output h_t. The state enters every
# cell only through the state-to-state weights (:class:`Recurrent`), added to the drive or
# gating it, so that with those weights at zero each cell reduces to h_t = [u_t]_+ and the
# network is its feedforward backbone at every step.

CELLS = ("feedforward", "time_decay", "vanilla", "lstm", "gru", "reciprocal_gated")
RECURRENT_KERNEL = 3


class Recurrent(nnx.Param):
    """A state-to-state weight: with every one of these at zero a ConvRNN is its feedforward backbone."""


def _same_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """The 'same'-padded, stride-1 convolution of x (n, H, W, C_in) with kernel (k, k, C_in, C_out)."""
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _recurrent_kernel(rngs: nnx.Rngs, c_in: int, c_out: int) -> Recurrent:
    shape = (RECURRENT_KERNEL, RECURRENT_KERNEL, c_in, c_out)
    return Recurrent(nnx.initializers.glorot_uniform()(rngs.params(), shape))


class _Gates(nnx.Module):
    """``count`` sigmoid gates σ(V ∗ u + W ∗ h + b), each with ``width`` channels (W is recurrent)."""

    def __init__(self, width: int, count: int, rngs: nnx.Rngs, bias: Sequence[float]):
        self.count = count
        self.from_drive = nnx.Conv(width, count * width, (RECURRENT_KERNEL, RECURRENT_KERNEL), padding="SAME",
                                   use_bias=False, kernel_init=nnx.initializers.glorot_uniform(), rngs=rngs)
        self.from_state = _recurrent_kernel(rngs, width, count * width)
        self.bias = nnx.Param(jnp.repeat(jnp.asarray(bias, jnp.float32), width))

    def __call__(self, u: jax.Array, h: jax.Array) -> list[jax.Array]:
        return jnp.split(jax.nn.sigmoid(self.from_drive(u) + _same_conv(h, self.from_state[...]) + self.bias[...]),
                         self.count, axis=-1)


class FeedforwardCell(nnx.Module):
    """h_t = [u_t]_+: no state, the backbone itself."""

    def __init__(self, width: int, rngs: nnx.Rngs):
        pass

    def initial_state(self, u: jax.Array) -> tuple:
        return ()

    def __call__(self, u: jax.Array, state: tuple) -> tuple[jax.Array, tuple]:
        return jax.nn.relu(u), ()


class TimeDecayCell(nnx.Module):
    """c_t = u_t + τ ⊙ c_{t−1}, h_t = [c_t]_+, with one learned decay τ = tanh(d) per channel.

    A leaky integrator of its drive (the paper's time-decay cell). It starts at d = 0.5
    (τ ≈ 0.46); d = 0 makes it feedforward.
    """

    def __init__(self, width: int, rngs: nnx.Rngs):
        self.decay = Recurrent(jnp.full((width,), 0.5))

    def initial_state(self, u: jax.Array) -> tuple:
        return (jnp.zeros_like(u),)

    def __call__(self, u: jax.Array, state: tuple) -> tuple[jax.Array, tuple]:
        c = u + jnp.tanh(self.decay[...]) * state[0]
        return jax.nn.relu(c), (c,)


class VanillaCell(nnx.Module):
    """h_t = [u_t + W ∗ h_{t−1}]_+: the plain convolutional RNN."""

    def __init__(self, width: int, rngs: nnx.Rngs):
        self.state_to_state = _recurrent_kernel(rngs, width, width)

    def initial_state(self, u: jax.Array) -> tuple:
        return (jnp.zeros_like(u),)

    def __call__(self, u: jax.Array, state: tuple) -> tuple[jax.Array, tuple]:
        h = jax.nn.relu(u + _same_conv(state[0], self.state_to_state[...]))
        return h, (h,)


class LSTMCell(nnx.Module):
    """The convolutional LSTM in additive form:

        i, f, o = σ(V ∗ u_t + W ∗ h_{t−1} + b),   c_t = f ⊙ c_{t−1} + i ⊙ tanh(W_c ∗ h_{t−1}),
        h_t = [u_t + o ⊙ tanh(c_t)]_+

    The memory c is written from the layer's own previous output and read out through the
    output gate o; the forget gate starts open (bias 1).
    """

    def __init__(self, width: int, rngs: nnx.Rngs):
        self.gates = _Gates(width, 3, rngs, bias=(0.0, 1.0, 0.0))
        self.to_memory = _recurrent_kernel(rngs, width, width)

    def initial_state(self, u: jax.Array) -> tuple:
        return (jnp.zeros_like(u), jnp.zeros_like(u))

    def __call__(self, u: jax.Array, state: tuple) -> tuple[jax.Array, tuple]:
        h_prev, c_prev = state
        i, f, o = self.gates(u, h_prev)
        c = f * c_prev + i * jnp.tanh(_same_conv(h_prev, self.to_memory[...]))
        h = jax.nn.relu(u + o * jnp.tanh(c))
        return h, (h, c)


class GRUCell(nnx.Module):
    """The convolutional GRU in additive form:

        z, ρ = σ(V ∗ u_t + W ∗ h_{t−1} + b),   m_t = (1 − z) ⊙ m_{t−1} + z ⊙ tanh(W_m ∗ (ρ ⊙ h_{t−1})),
        h_t = [u_t + m_t]_+
    """

    def __init__(self, width: int, rngs: nnx.Rngs):
        self.gates = _Gates(width, 2, rngs, bias=(0.0, 0.0))
        self.to_memory = _recurrent_kernel(rngs, width, width)

    def initial_state(self, u: jax.Array) -> tuple:
        return (jnp.zeros_like(u), jnp.zeros_like(u))

    def __call__(self, u: jax.Array, state: tuple) -> tuple[jax.Array, tuple]:
        h_prev, m_prev = state
        z, reset = self.gates(u, h_prev)
        m = (1 - z) * m_prev + z * jnp.tanh(_same_conv(reset * h_prev, self.to_memory[...]))
        h = jax.nn.relu(u + m)
        return h, (h, m)


class ReciprocalGatedCell(nnx.Module):
    """The reciprocal gated cell (the paper's Fig. 2): a memory c and an output h that gate each other.

        c_t = [tanh(W_cc ∗ c_{t−1}) ⊙ c_{t−1} + (1 − tanh(W_hc ∗ h_{t−1})) ⊙ u_t]_+
        h_t = [tanh(W_hh ∗ h_{t−1}) ⊙ h_{t−1} + (1 − tanh(W_ch ∗ c_{t−1})) ⊙ u_t]_+

    Each state keeps a self-gated share of its past, and each gates how much of the drive u
    enters the other: the output gates the memory's input and the memory gates the output's.
    The drive reaches the output directly (bypassing), scaled by a gate in (0, 2) that is 1
    when the memory is silent. The paper's gates are the same 1 − tanh(·) terms; its state
    retention, 1 − tanh(W ∗ state), keeps everything when W = 0 where ours keeps nothing.
    """

    def __init__(self, width: int, rngs: nnx.Rngs):
        self.memory_to_memory = _recurrent_kernel(rngs, width, width)
        self.output_to_memory = _recurrent_kernel(rngs, width, width)
        self.output_to_output = _recurrent_kernel(rngs, width, width)
        self.memory_to_output = _recurrent_kernel(rngs, width, width)

    def initial_state(self, u: jax.Array) -> tuple:
        return (jnp.zeros_like(u), jnp.zeros_like(u))

    def __call__(self, u: jax.Array, state: tuple) -> tuple[jax.Array, tuple]:
        h_prev, c_prev = state
        keep = lambda s, w: jnp.tanh(_same_conv(s, w[...])) * s
        gate = lambda s, w: 1 - jnp.tanh(_same_conv(s, w[...]))
        c = jax.nn.relu(keep(c_prev, self.memory_to_memory) + gate(h_prev, self.output_to_memory) * u)
        h = jax.nn.relu(keep(h_prev, self.output_to_output) + gate(c_prev, self.memory_to_output) * u)
        return h, (h, c)


_CELL_CLASSES = dict(zip(CELLS, (FeedforwardCell, TimeDecayCell, VanillaCell, LSTMCell, GRUCell,
                                 ReciprocalGatedCell)))


def _check_cell(cell) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell={cell!r} is not one of {CELLS}")
    return cell


def _pool(h: jax.Array) -> jax.Array:
    """2 × 2 average pooling (a side that is odd loses its last row or column)."""
    n, rows, cols, c = h.shape
    return h[:, :rows // 2 * 2, :cols // 2 * 2].reshape(n, rows // 2, 2, cols // 2, 2, c).mean(axis=(2, 4))


class ConvRNN(nnx.Module):
    """A small convolutional backbone with one recurrent ``cell`` per layer, unrolled over ``steps``.

    Layer ℓ = 1 … ``layers``: drive u = W_ℓ ∗ (input) + b_ℓ (``kernel`` × ``kernel``, ``width``
    channels), cell output h (:data:`CELLS`), then 2 × 2 average pooling into the next layer.
    The top layer's output, averaged over space, feeds one linear readout shared by all steps.
    At step t all layers update in order (layer ℓ reads layer ℓ − 1's output of the same step
    and its own state of step t − 1). The image is shown at steps 0 … ``image_off`` − 1 and
    is zeros after. ``feedback=True`` adds a top-down connection: the top layer's previous
    output, upsampled, through a recurrent 3 × 3 convolution into the first layer's drive.
    Calling the model on images (batch, H, W, ``in_channels``) returns logits (steps, batch, classes).
    """

    def __init__(self, cell: str, *, rngs: nnx.Rngs, steps: int, image_off: int, width: int = 32,
                 in_channels: int = 3, layers: int = 2, kernel: int = 3, classes: int = CLASSES,
                 feedback: bool = False):
        self.cell = _check_cell(cell)
        self.steps = checks.integer("steps", steps)
        self.image_off = checks.integer("image_off", image_off, minimum=0)
        checks.integer("width", width)
        self.in_channels = checks.integer("in_channels", in_channels)
        checks.integer("layers", layers)
        checks.integer("kernel", kernel)
        checks.integer("classes", classes, minimum=2)
        if not isinstance(feedback, bool):
            raise TypeError(f"feedback must be True or False, got {feedback!r}")
        if not isinstance(rngs, nnx.Rngs):
            raise TypeError(f"rngs must be an nnx.Rngs, got {type(rngs).__name__}")
        self.width, self.layers = width, layers
        glorot = nnx.initializers.glorot_uniform()
        channels = [in_channels] + [width] * layers
        self.drives = _Layers([nnx.Conv(c_in, width, (kernel, kernel), padding="SAME", kernel_init=glorot, rngs=rngs)
                               for c_in in channels[:-1]])
        self.readout = nnx.Linear(width, classes, kernel_init=glorot, rngs=rngs)
        self.cells = _Layers([_CELL_CLASSES[cell](width, rngs) for _ in range(layers)])
        self.feedback = _recurrent_kernel(rngs, width, width) if feedback else None
        self.label = f"{cell}{' + feedback' if feedback else ''}, width {width}"

    def _top_down(self, h_top: jax.Array, side: tuple[int, int]) -> jax.Array:
        """The top layer's output upsampled (pixel repetition) to the first layer's ``side``."""
        up = jnp.repeat(jnp.repeat(h_top, 2 ** (self.layers - 1), axis=1), 2 ** (self.layers - 1), axis=2)
        up = jnp.pad(up, ((0, 0), (0, side[0] - up.shape[1]), (0, side[1] - up.shape[2]), (0, 0)))
        return _same_conv(up, self.feedback[...])

    def run(self, x: jax.Array, steps: int | None = None) -> dict[str, jax.Array]:
        """Unroll on images ``x`` for ``steps`` (default ``self.steps``): every layer's output and the logits.

        Returns ``{"layer_1": (steps, n, H, W, width), …, "logits": (steps, n, classes)}``. The
        step is unrolled in the compiled program (``steps`` is small), which XLA's CPU backend runs
        faster than a ``lax.scan`` over these convolutions.
        """
        steps = self.steps if steps is None else checks.integer("steps", steps)
        if x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ValueError(f"x must have shape (n, H, W, {self.in_channels}), got {x.shape}")
        states, outputs, history = None, None, {f"layer_{i + 1}": [] for i in range(self.layers)}
        history["logits"] = []
        for t in range(steps):
            below = x if t < self.image_off else jnp.zeros_like(x)
            new_outputs, new_states = [], []
            for i, (drive, cell) in enumerate(zip(self.drives, self.cells)):
                u = drive(below)
                if i == 0 and self.feedback is not None and outputs is not None:
                    u = u + self._top_down(outputs[-1], u.shape[1:3])
                h, state = cell(u, cell.initial_state(u) if states is None else states[i])
                new_outputs.append(h)
                new_states.append(state)
                history[f"layer_{i + 1}"].append(h)
                below = _pool(h)
            outputs, states = new_outputs, new_states
            history["logits"].append(self.readout(outputs[-1].mean(axis=(1, 2))))
        return {name: jnp.stack(values) for name, values in history.items()}

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits (steps, n, classes) for images ``x`` (n, H, W, in_channels) (see :func:`to_input`)."""
        return self.run(x)["logits"]

    def decision_logits(self, x: jax.Array) -> jax.Array:
        """The logits the network is trained on: those of the last step the image is shown (n, classes)."""
        if self.image_off < 1:
            raise ValueError("a ConvRNN with image_off = 0 never sees its image and cannot be trained")
        return self.run(x, steps=min(self.image_off, self.steps))["logits"][-1]


@functools.partial(jax.jit, static_argnames=("graphdef", "steps"))
def _unroll(graphdef, state, x, steps):
    run = nnx.merge(graphdef, state).run(x, steps)
    return {name: value if name == "logits" else value.mean(axis=(2, 3)) for name, value in run.items()}


def unroll(model: ConvRNN, images, *, steps: int | None = None, batch_size: int = 500) -> dict[str, np.ndarray]:
    """:meth:`ConvRNN.run` on ``images`` (through :func:`to_input`), compiled, ``batch_size`` at a time.

    Returns the logits (steps, n, classes) and each layer's output averaged over space,
    ``"layer_ℓ"``: (steps, n, width).
    """
    if not isinstance(model, ConvRNN):
        raise TypeError(f"model must be a vision.ConvRNN, got {type(model).__name__}")
    steps = model.steps if steps is None else checks.integer("steps", steps)
    batch_size = checks.integer("batch_size", batch_size)
    x = to_input(images, model.in_channels)
    graphdef, state = nnx.split(model)
    parts = [_unroll(graphdef, state, x[i:i + batch_size], steps) for i in range(0, len(x), batch_size)]
    return {name: np.concatenate([np.asarray(p[name]) for p in parts], axis=1) for name in parts[0]}


def accuracy_over_time(model: ConvRNN, images, labels, *, steps: int | None = None) -> np.ndarray:
    """Fraction of ``images`` whose largest logit is the label, at every step: (steps,)."""
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
    return (unroll(model, images, steps=steps)["logits"].argmax(axis=-1) == labels).mean(axis=1)


def recurrent_parameters(model: ConvRNN) -> dict[str, jax.Array]:
    """The state-to-state weights of ``model`` (every :class:`Recurrent`), by dotted path.

    Setting all of them to zero turns every cell into h_t = [u_t]_+, the feedforward backbone.
    """
    if not isinstance(model, ConvRNN):
        raise TypeError(f"model must be a vision.ConvRNN, got {type(model).__name__}")
    value = lambda v: v.get_value() if hasattr(v, "get_value") else v.value    # Flax ≥ 0.12 / before
    return {".".join(map(str, path)): value(node) for path, node in nnx.iter_graph(model)
            if isinstance(node, Recurrent)}


def matched_width(cell: str, target_params: int, *, in_channels: int = 3, **options) -> int:
    """The ``width`` that gives a ConvRNN with ``cell`` the parameter count nearest ``target_params``.

    A ConvRNN's parameter count is a quadratic in its width (every weight is a width × width,
    width × channels or width × classes array), so three abstract models (``nnx.eval_shape``,
    nothing allocated) give the quadratic and its root; the nearer of the two integer widths
    around the root wins. ``options`` (``layers``, ``kernel``, ``classes``, ``feedback``) go to
    :class:`ConvRNN`.
    """
    _check_cell(cell)
    target = checks.integer("target_params", target_params)
    count = lambda width: count_params(nnx.eval_shape(lambda: ConvRNN(
        cell, rngs=nnx.Rngs(0), steps=1, image_off=1, width=width, in_channels=in_channels, **options)))
    a, b, c = np.polyfit([1, 2, 3], [count(1), count(2), count(3)], 2)
    root = max(np.roots([a, b, c - target]).real) if a else (target - c) / b
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(candidates, key=lambda width: abs(count(width) - target))
