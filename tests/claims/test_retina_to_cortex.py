"""Headline claim of the retina-to-cortex chapter (Lindsey, Ocko, Ganguli & Deny, ICLR 2019).

A tight optic-nerve bottleneck makes the retinal output centre-surround. Small networks of
the chapter's shape (9 × 9 convolutions, one VVS layer) are trained on natural-image patches
(``data.natural_patches``, the chapter's offline data). The claim must fail for the nearest
other explanations, so the same predicate is applied to them and must be false:

- the architecture alone (the same network untrained: rectified 9 × 9 convolutions already
  give smooth, blob-like gradients),
- training without the bottleneck (N_bn = 16: the retina has room to send oriented or
  unstructured channels), and
- an oriented filter with a centre and flanks (an even Gabor), which the centre-surround
  index alone scores in between: the predicate also asks for an orientedness near 1.
"""

import numpy as np
import pytest
from flax import nnx

from neurotheory import data, vision

WIDTH, DENSE, STEPS, BATCH, LEARNING_RATE = 16, 128, 4000, 32, 1e-3
TIGHT_SEEDS, WIDE_SEEDS = (0, 1), (0,)
WIDE = 16
# A retina is centre-surround when its live retinal-output fields have a mean centre-surround
# index above CENTRE_SURROUND and a median orientedness below ISOTROPIC. Measured (2 CPU cores,
# these sizes): index 0.23 and 0.46, orientedness 1.2 and 1.8 for N_bn = 1 (seeds 0, 1);
# index 0.10 and 0.13 for N_bn = 16; 0.05 to 0.08 untrained; an even Gabor 0.36 and 160.
CENTRE_SURROUND, ISOTROPIC = 0.17, 2.5
MARGIN = 0.05               # the tight bottleneck's lead over the wide one, every seed


def retinal_fields(model: vision.RetinaNet) -> np.ndarray:
    fields = vision.receptive_fields(model, "retina_2", samples=16)
    live = vision.live_channels(fields)
    assert live.size, "every retinal-output channel is silent on the probe images"
    return fields[live]


def mean_centre_surround(fields) -> float:
    return float(np.mean([vision.center_surround_index(f) for f in fields]))


def centre_surround(fields) -> bool:
    return (mean_centre_surround(fields) > CENTRE_SURROUND
            and float(np.median([vision.orientedness(f) for f in fields])) < ISOTROPIC)


def network(n_bottleneck: int, seed: int) -> vision.RetinaNet:
    return vision.RetinaNet(n_bottleneck, 1, rngs=nnx.Rngs(seed), width=WIDTH, dense=DENSE)


@pytest.fixture(scope="module")
def trained():
    patches = data.natural_patches(8000, split="train", seed=0)
    populations = {}
    for n_bn, seeds in ((1, TIGHT_SEEDS), (WIDE, WIDE_SEEDS)):
        models = [network(n_bn, seed) for seed in seeds]
        vision.train_population(models, patches.images, patches.labels, steps=STEPS,
                                batch_size=BATCH, learning_rate=LEARNING_RATE, seeds=list(seeds))
        populations[n_bn] = models
    return populations


def test_tight_bottleneck_makes_the_retinal_output_centre_surround(trained):
    for model in trained[1]:
        fields = retinal_fields(model)
        assert centre_surround(fields), [(vision.center_surround_index(f), vision.orientedness(f))
                                         for f in fields]


def test_not_the_architecture_alone_nor_without_the_bottleneck_nor_an_oriented_filter(trained):
    """A test of the test: the predicate is false for the untrained network of the same shape,
    for the trained wide-bottleneck network (which the tight one beats on every seed) and for
    an even Gabor; a difference of Gaussians passes it."""
    rows, cols = np.indices((32, 32)) - 15.5
    rho2 = rows ** 2 + cols ** 2
    assert centre_surround([np.exp(-rho2 / 8) - 0.25 * np.exp(-rho2 / 32)])
    assert not centre_surround([np.exp(-rho2 / 32) * np.cos(0.8 * cols)])
    assert not centre_surround(retinal_fields(network(1, 0)))
    wide = [retinal_fields(m) for m in trained[WIDE]]
    assert not any(centre_surround(f) for f in wide)
    tight = [mean_centre_surround(retinal_fields(m)) for m in trained[1]]
    assert min(tight) > max(mean_centre_surround(f) for f in wide) + MARGIN
