"""Headline claims of the universality chapter (arXiv:1907.08549), at quick scale.

Flip-flop populations of three architectures train together (`rnn.train_population`); the
networks that reach the criterion — a small held-out error and every stored bit kept
through 1,000 silent steps — are analysed, as in the paper. Universality: each of them
stores exactly the 3-cube's eight memories with the cube's pulse graph (topology distance
0), which a leaky integrator that forgets slowly does not. Individuality: under SVCCA the
same networks sit closer to their own architecture than to the others, by a margin that
labels unrelated to architecture do not reach. (That each network of a population ends
where it would alone, also sharded over 4 CPU devices, is tests/test_rnn.py.)
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from neurotheory import fixedpoints, rnn, runtime, similarity

ARCHITECTURES = ("vanilla", "gru")
NETWORKS = 4          # per architecture
HIDDEN, TRIAL, STEPS, SILENCE = 16, 100, 2_000, 1_000
L2_RANGE = (1e-4, 1e-3)   # each network's L2 penalty, log-uniform: larger penalties favour attractors
ERROR = 0.06              # criterion: held-out MSE at most this, and every bit kept through SILENCE
PULSES = np.concatenate([np.eye(3), -np.eye(3)])
MARGIN = 1.2          # SVCCA: mean between-architecture / within-architecture distance


def flip_flop(seed, batch):
    return rnn.tasks.flip_flop(runtime.key(seed), batch=batch, steps=TRIAL, pulse_prob=4 / TRIAL)


def cube():
    """The ideal memory graph: three independent bistable units h ↦ tanh(2h + 3x)."""
    candidates = jax.random.uniform(runtime.key(5), (400, 3), minval=-1.5, maxval=1.5)
    return fixedpoints.topology(lambda h, x: jnp.tanh(2 * h + 3 * x), candidates, pulses=PULSES)


def keeps_memories(outputs_after_silence, stored):
    return float(np.mean((np.sign(outputs_after_silence) == stored)[stored != 0]))


@pytest.fixture(scope="module")
def population():
    train, test = flip_flop(0, 512), flip_flop(1, 64)
    quiet = jnp.concatenate([test.inputs, jnp.zeros((64, SILENCE, 3))], axis=1)
    rng = runtime.rng(0)
    networks = []
    for number, arch in enumerate(ARCHITECTURES):
        seeds = [number * NETWORKS + i for i in range(NETWORKS)]
        models = [rnn.SequenceModel(arch, input_size=3, hidden_size=HIDDEN, output_size=3,
                                    rngs=nnx.Rngs(seed)) for seed in seeds]
        lrs = np.exp(rng.uniform(np.log(3e-3), np.log(1e-2), NETWORKS))
        l2s = np.exp(rng.uniform(*np.log(L2_RANGE), NETWORKS))
        rnn.train_population(models, *train, steps=STEPS, batch_size=32, learning_rate=lrs,
                             l2=l2s, seeds=seeds)
        for seed, model in zip(seeds, models):
            error = float(np.mean((np.asarray(model(test.inputs)) - np.asarray(test.targets)) ** 2))
            held = keeps_memories(np.asarray(model(quiet))[:, -1], np.asarray(test.targets)[:, -1])
            networks.append(dict(arch=arch, seed=seed, model=model, error=error, held=held))
    reached = [n for n in networks if n["error"] <= ERROR and n["held"] >= 0.99]
    for net in reached:
        model = net["model"]
        states = model.states(test.inputs)
        candidates = fixedpoints.sample_states(states, 256, key=runtime.key(net["seed"]))
        net["topology"] = fixedpoints.topology(model.transition(), candidates, pulses=PULSES,
                                               settle_steps=SILENCE, merge=1e-2)
        hidden = np.asarray(rnn.output(model.kind, states))
        net["states"] = hidden[:, ::4].reshape(-1, hidden.shape[-1])
    return networks, reached


def test_every_flip_flop_network_that_learns_stores_the_cube(population):
    networks, reached = population
    print([(n["arch"], round(n["error"], 3), round(n["held"], 3)) for n in networks])
    assert all(sum(n["arch"] == arch for n in reached) >= 2 for arch in ARCHITECTURES)
    ideal = cube()
    for net in reached:
        assert len(net["topology"].stable) == 8, net["arch"]
        assert fixedpoints.topology_distance(net["topology"], ideal) == 0.0, net["arch"]


def test_a_slowly_forgetting_integrator_is_not_the_cube():
    # The nearest other explanation of a low error: h ↦ 0.99 h (1 − |x|) + x, read out as
    # sign(h), holds each pulse for a 100-step trial (a pulse resets its unit, which then
    # keeps 0.99¹⁰⁰ ≈ 37 % of it) but its only memory is h = 0.
    leaky = lambda h, x: 0.99 * h * (1 - jnp.abs(x)) + x
    test = flip_flop(1, 64)
    states = np.asarray(jax.vmap(lambda xs: jax.lax.scan(
        lambda h, x: (leaky(h, x), leaky(h, x)), jnp.zeros(3), xs)[1])(test.inputs))
    assert np.mean(np.sign(states[:, -1]) == np.asarray(test.targets)[:, -1]) > 0.95
    graph = fixedpoints.topology(leaky, jnp.asarray(states.reshape(-1, 3)[:256]), pulses=PULSES,
                                 settle_steps=SILENCE)
    assert len(graph.stable) == 1 and fixedpoints.topology_distance(graph, cube()) >= 1


def svcca_matrix(reached):
    return similarity.pairwise([n["states"] for n in reached], similarity.svcca_distance)


def test_architectures_separate_under_svcca_but_not_under_topology(population):
    _, reached = population
    labels = [n["arch"] for n in reached]
    within, between = similarity.within_between(svcca_matrix(reached), labels)
    print(f"SVCCA within {within:.3f}, between {between:.3f}")
    assert between > MARGIN * within
    topology = np.array([[fixedpoints.topology_distance(a["topology"], b["topology"])
                          for b in reached] for a in reached])
    assert np.all(topology == 0.0)


def test_labels_unrelated_to_architecture_do_not_separate(population):
    # Test of the test: the same SVCCA matrix, labelled so that each label mixes architectures
    # (network i gets label i mod 2 within the architecture-sorted list), misses the margin.
    _, reached = population
    order = np.argsort([ARCHITECTURES.index(n["arch"]) for n in reached], kind="stable")
    mixed = np.empty(len(reached), int)
    mixed[order] = np.arange(len(reached)) % 2
    within, between = similarity.within_between(svcca_matrix(reached), mixed)
    print(f"mixed labels: within {within:.3f}, between {between:.3f}")
    assert not between > MARGIN * within
