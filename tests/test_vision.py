"""The retina–VVS network, its receptive fields and the shape indices, on known filters."""

import numpy as np
import pytest
from flax import nnx

from neurotheory import vision

rows, cols = np.indices((32, 32)) - 15.5
distance2 = rows ** 2 + cols ** 2


def gaussian(sigma):
    return np.exp(-distance2 / (2 * sigma ** 2)) / (2 * np.pi * sigma ** 2)


def gabor(angle, wavelength=6.0, sigma=3.0, phase=0.0):
    u = np.cos(angle) * cols + np.sin(angle) * rows
    return np.exp(-distance2 / (2 * sigma ** 2)) * np.cos(2 * np.pi * u / wavelength + phase)


DOG = gaussian(1.5) - gaussian(3.5)


def assign(variable, value):
    """Set an nnx.Param in place (``variable[...] =`` from Flax 0.12, ``.value =`` before)."""
    try:
        variable[...] = value
    except TypeError:
        variable.value = value


@pytest.fixture(scope="module")
def small():
    return vision.RetinaNet(2, 1, rngs=nnx.Rngs(0), width=4, dense=8, side=16)


def test_shapes_layers_and_parameter_count(small):
    x = vision.to_input(np.zeros((3, 16, 16, 3), np.uint8))
    assert x.shape == (3, 16, 16, 1) and np.allclose(x, -0.5)
    acts = small.activations(x)
    assert list(acts) == ["retina_1", "retina_2", "vvs_1", "dense", "logits"]
    assert acts["retina_2"].shape == (3, 16, 16, 2) and small(x).shape == (3, 10)
    convs = (81 * 1 + 1) * 4 + (81 * 4 + 1) * 2 + (81 * 2 + 1) * 4
    assert vision.count_params(small) == convs + (16 * 16 * 4 + 1) * 8 + (8 + 1) * 10


def test_paper_sizes_count():
    """The paper's N_bn = 1, VVS depth 2 network: 9 × 9 kernels, 32 channels, a 1024-unit dense layer."""
    model = vision.RetinaNet(1, 2, rngs=nnx.Rngs(0))
    convs = (81 + 1) * 32 + (81 * 32 + 1) * 1 + (81 * 1 + 1) * 32 + (81 * 32 + 1) * 32
    assert vision.count_params(model) == convs + (32 * 32 * 32 + 1) * 1024 + (1024 + 1) * 10
    abstract = nnx.eval_shape(lambda: vision.RetinaNet(1, 2, rngs=nnx.Rngs(0)))
    assert vision.count_params(abstract) == vision.count_params(model)


def test_receptive_field_of_a_linear_retina_is_its_filter():
    """With retina_1 a single identity-like channel kept active, retina_2's RF at a blank image is
    its own 9 × 9 kernel, flipped into image coordinates around the centre unit."""
    model = vision.RetinaNet(1, 0, rngs=nnx.Rngs(1), width=1, dense=4, side=16)
    first = np.zeros((9, 9, 1, 1), np.float32)
    first[4, 4] = 1.0
    assign(model.convs[0].kernel, first)
    assign(model.convs[0].bias, np.ones(1, np.float32))          # active at the blank image
    kernel = np.random.default_rng(0).normal(size=(9, 9, 1, 1)).astype(np.float32)
    assign(model.convs[1].kernel, kernel)
    assign(model.convs[1].bias, np.ones(1, np.float32))
    rf = vision.receptive_field(model, "retina_2", 0)
    np.testing.assert_allclose(rf[4:13, 4:13], kernel[:, :, 0, 0], rtol=1e-5, atol=1e-6)
    assert np.count_nonzero(rf) == 81
    averaged = vision.receptive_field(model, "retina_2", 0, samples=8, scale=1e-3)
    np.testing.assert_allclose(averaged, rf, rtol=1e-4, atol=1e-6)


def test_all_channels_at_once_match_one_at_a_time(small):
    """receptive_fields stacks receptive_field over channels, on the same probe images, and
    live_channels drops the ones silent on every probe (all of them at the blank image, where
    zero biases leave every ReLU at 0)."""
    for layer, samples in (("retina_2", 4), ("vvs_1", 4), ("vvs_1", 0)):
        fields = vision.receptive_fields(small, layer, samples=samples, seed=3)
        one_by_one = [vision.receptive_field(small, layer, c, samples=samples, seed=3)
                      for c in range(len(fields))]
        np.testing.assert_allclose(fields, np.stack(one_by_one), rtol=1e-5, atol=1e-7)
    assert vision.live_channels(vision.receptive_fields(small, "vvs_1")).size == 0
    fields = np.zeros((3, 5, 5))
    fields[1, 2, 2] = 1.0
    assert vision.live_channels(fields).tolist() == [1]
    with pytest.raises(ValueError, match="fields"):
        vision.live_channels(np.zeros((5, 5)))


def test_indices_separate_centre_surround_from_oriented_filters():
    assert vision.center_surround_index(DOG) > 0.9
    assert vision.center_surround_index(gaussian(2.0)) == 0.0            # a blob has no surround
    assert vision.center_surround_index(gabor(0.5, phase=np.pi / 2)) < 0.05
    noise = np.random.default_rng(0).normal(size=(32, 32))
    assert vision.center_surround_index(noise) < 0.1
    assert vision.orientedness(DOG) == pytest.approx(1.0, abs=0.05)
    assert vision.orientedness(gabor(0.5)) > 10 and vision.orientedness(gabor(1.2, phase=1.0)) > 10
    even = gabor(0.5)                       # a centre bar between flanks: in between, but oriented
    assert 0.1 < vision.center_surround_index(even) < 0.6 and vision.orientedness(even) > 10
    assert vision.orientedness(noise) < 2


def test_tuning_peaks_at_the_gabor_orientation():
    angles, scores = vision.orientation_tuning(gabor(np.pi / 3))
    # the bars' normal is at angle θ, so a Gabor whose carrier varies along θ prefers θ
    assert angles[np.argmax(scores)] == pytest.approx(np.pi / 3, abs=np.pi / 36 + 1e-9)


def test_radial_profile_of_a_radial_filter_reproduces_it():
    profile, counts = vision.radial_profile(DOG, center=(15.5, 15.5))
    assert counts.sum() == DOG.size
    rings = np.rint(np.sqrt(distance2)).astype(int)
    assert np.sum(counts * profile ** 2) <= np.sum(DOG ** 2) + 1e-15
    assert np.corrcoef(profile[rings].ravel(), DOG.ravel())[0, 1] > 0.98          # rings of unit width


def test_linearity_and_decoding_of_a_linear_code():
    """A retina whose every unit is linear in the image (biases large enough that the ReLUs never
    switch off) has linearity 1 and, with a full-rank code, decodes the image almost fully."""
    model = vision.RetinaNet(1, 0, rngs=nnx.Rngs(2), width=2, dense=4, side=24)
    first = np.zeros((9, 9, 1, 2), np.float32)
    first[4, 4, 0, 0] = 1.0
    first[4, 4, 0, 1] = -1.0
    assign(model.convs[0].kernel, first)
    assign(model.convs[0].bias, np.full(2, 10.0, np.float32))
    second = np.zeros((9, 9, 2, 1), np.float32)
    second[4, 4, 0, 0] = 1.0
    assign(model.convs[1].kernel, second)
    images = np.random.default_rng(3).integers(0, 256, size=(2000, 24, 24, 1)).astype(np.uint8)
    assert vision.linearity(model, "retina_2", images) > 0.999
    assert vision.linear_decoding(model, "retina_2", images) > 0.99
    assign(model.convs[0].bias, np.zeros(2, np.float32))     # now relu(x): the dark half is lost
    assert vision.linear_decoding(model, "retina_2", images) < 0.9
    assert vision.linearity(model, "retina_2", images) < 0.9


def test_training_lowers_the_loss_on_a_learnable_task():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400)
    images = (rng.normal(size=(400, 16, 16, 1)) * 20 + 128 + (labels[:, None, None, None] - 4.5) * 10)
    images = np.clip(images, 0, 255).astype(np.uint8)
    models = [vision.RetinaNet(1, 0, rngs=nnx.Rngs(s), width=4, dense=16, side=16) for s in range(2)]
    before = [vision.accuracy(m, images, labels) for m in models]
    history = vision.train_population(models, images, labels, steps=150, learning_rate=3e-3, batch_size=32)
    assert history.shape == (2, 150)
    assert np.all(history[:, -20:].mean(1) < 0.8 * history[:, :20].mean(1))
    assert all(vision.accuracy(m, images, labels) > b + 0.2 for m, b in zip(models, before))
    assert not np.allclose(history[0], history[1])                       # seeds draw their own batches


@pytest.mark.parametrize("call, match", [
    (lambda: vision.RetinaNet(0, 1, rngs=nnx.Rngs(0)), "n_bottleneck"),
    (lambda: vision.RetinaNet(1, -1, rngs=nnx.Rngs(0)), "vvs_depth"),
    (lambda: vision.RetinaNet(1, 1, rngs=0), "rngs"),
    (lambda: vision.to_input(np.zeros((2, 8, 8))), "images"),
    (lambda: vision.center_surround_index(np.zeros((8, 8))), "silent"),
    (lambda: vision.orientedness(np.ones(5)), "2-D"),
    (lambda: vision.orientation_tuning(DOG, orientations=5), "even"),
    (lambda: vision.count_params("model"), "nnx.Module"),
    (lambda: vision.power_spectrum_slope(np.zeros((2, 8))), "images"),
    (lambda: vision.power_spectrum_slope(np.zeros((2, 8, 8)), band=(0.3, 0.1)), "band"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_layer_and_channel(small):
    with pytest.raises(ValueError, match="layer"):
        vision.receptive_field(small, "v4", 0)
    with pytest.raises(ValueError, match="channel must be below 2"):
        vision.receptive_field(small, "retina_2", 2)
    with pytest.raises(ValueError, match="linearity is defined"):
        vision.linearity(small, "dense", np.zeros((40, 16, 16, 1), np.uint8))
    with pytest.raises(ValueError, match="labels"):
        vision.train_population([small], np.zeros((4, 16, 16, 1), np.uint8), [0, 1], steps=1)
