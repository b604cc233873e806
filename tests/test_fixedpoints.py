"""Fixed points, linearization and the reduced integrator, on systems whose answers are known."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from neurotheory import fixedpoints as fps
from neurotheory import rnn, runtime


def line_map():
    """F(h) = A h + b with A = P + ½(I − P), P the projector on u: fixed points h = c u + 2 b⊥
    for b ⊥ u, a line of them along u (eigenvalues 1 and ½)."""
    u = jnp.array([1.0, 2.0, -1.0, 0.5]) / jnp.sqrt(6.25)
    projector = jnp.outer(u, u)
    a = projector + 0.5 * (jnp.eye(4) - projector)
    b = jnp.array([0.3, -0.2, 0.1, 0.4])
    b = b - (b @ u) * u
    return (lambda h: a @ h + b), u, 2 * b


@pytest.mark.parametrize("method, tol", [("levenberg-marquardt", 1e-10), ("adam", 1e-8)])
def test_finds_a_line_of_fixed_points(method, tol):
    step, u, offset = line_map()
    candidates = jax.random.normal(runtime.key(0), (64, 4))
    result = fps.find_fixed_points(step, candidates, tol=tol, max_iters=5000, method=method,
                                   learning_rate=3e-2)
    assert result.points.shape == (64, 4) and result.speed.shape == (64,)
    assert result.converged.all()
    assert np.all(result.speed < tol)
    off_line = result.points - offset - np.outer(result.points @ np.asarray(u), u)
    # ‖F(h) − h‖ = ½ ‖h⊥ − 2b‖ = √(2q), so the distance from the line is at most 2 √(2 tol).
    assert np.linalg.norm(off_line, axis=1).max() < 2 * np.sqrt(2 * tol) + 1e-5
    spread = fps.principal_components(result.points)
    assert spread.explained[0] > 0.999


def test_finds_the_fixed_points_of_a_tanh_network():
    """F(h) = tanh(2 h) unit by unit: fixed points are every h ∈ {0, −h*, h*}³, h* = tanh(2 h*)."""
    h_star = brentq(lambda h: np.tanh(2 * h) - h, 0.5, 1.0)
    known = np.array(list(itertools.product([-h_star, 0.0, h_star], repeat=3)))
    candidates = jax.random.uniform(runtime.key(1), (400, 3), minval=-1.5, maxval=1.5)
    result = fps.find_fixed_points(lambda h: jnp.tanh(2 * h), candidates, tol=1e-12, max_iters=100)
    assert result.converged.mean() > 0.95
    found = result.points[result.converged]
    distance = np.linalg.norm(found[:, None] - known[None], axis=-1).min(axis=1)
    assert distance.max() < 1e-5
    distinct = fps.unique(found, 1e-3)
    assert len(distinct) == 27
    lin = fps.linearize(lambda h: jnp.tanh(2 * h), distinct)
    # J = diag(2 (1 − tanh² (2h))): 2 at h = 0 (unstable), 2 (1 − h*²) < 1 at ±h* (stable).
    expected = np.sort(2 * (1 - np.tanh(2 * distinct) ** 2), axis=1)[:, ::-1]
    np.testing.assert_allclose(np.abs(lin.eigenvalues), expected, rtol=1e-4)


def test_linearize_matches_finite_differences_and_is_an_eigendecomposition():
    params = rnn.init("gru", runtime.key(2), input_size=3, hidden_size=6)
    step = lambda h: rnn.gru_step(params, h, jnp.zeros(3))
    points = jax.random.normal(runtime.key(3), (5, 6)) * 0.5
    lin = fps.linearize(step, points)
    eps = 1e-3
    for k, h in enumerate(np.asarray(points, dtype=np.float64)):
        columns = [(np.asarray(step(jnp.asarray(h + eps * e, jnp.float32)), np.float64)
                    - np.asarray(step(jnp.asarray(h - eps * e, jnp.float32)), np.float64)) / (2 * eps)
                   for e in np.eye(6)]
        np.testing.assert_allclose(lin.jacobians[k], np.stack(columns, axis=1), atol=2e-3)
    j = lin.jacobians.astype(np.float64)
    lam = lin.eigenvalues
    np.testing.assert_allclose(j @ lin.right, lin.right * lam[:, None, :], atol=1e-8)
    np.testing.assert_allclose(lin.left @ j, lam[:, :, None] * lin.left, atol=1e-8)
    np.testing.assert_allclose(lin.left @ lin.right, np.broadcast_to(np.eye(6), (5, 6, 6)), atol=1e-8)
    assert np.all(np.diff(np.abs(lam), axis=1) <= 1e-12)


def test_unique_removes_duplicates_in_order():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 3)) * 10
    copies = np.concatenate([base, base + 1e-6 * rng.normal(size=base.shape), base[::-1]])
    kept, index = fps.unique(copies, 1e-3, return_index=True)
    np.testing.assert_array_equal(index, np.arange(5))
    np.testing.assert_array_equal(kept, base)
    assert len(fps.unique(copies, 0.0)) == 10  # exact copies (the reversed block) only


def test_time_constants_are_signed():
    tau = np.array([1.0, 10.0, 100.0])
    np.testing.assert_allclose(fps.time_constants(np.exp(-1 / tau)), tau, rtol=1e-10)
    np.testing.assert_allclose(fps.time_constants(np.exp(1 / tau)), -tau, rtol=1e-10)  # growth times
    np.testing.assert_allclose(fps.time_constants(-np.exp(-1 / tau)), tau, rtol=1e-10)  # sign of λ is irrelevant
    assert fps.time_constants(np.array([1.0]))[0] == np.inf
    assert fps.time_constants(np.array([1.021]))[0] == pytest.approx(-1 / np.log(1.021))


def test_stability_types():
    eigenvalues = np.array([[0.5, 0.1], [0.995, 0.3], [1.05, 0.2], [0.9, -1.3]])
    np.testing.assert_array_equal(fps.stability(eigenvalues, tol=0.02),
                                  ["stable", "marginal", "unstable", "unstable"])


def test_line_integrator_with_one_point_is_a_leaky_integrator():
    rng = np.random.default_rng(1)
    drives = rng.normal(size=(1, 6))
    tokens = rng.integers(1, 6, size=(4, 7))
    tokens[1, 5:] = tokens[2, 1:] = 0
    y_star, decay = 0.5, 0.9
    expected = []
    for row in tokens:
        y = 2.0
        for token in row:
            if token:
                y = y_star + decay * (y - y_star) + drives[0, token]
        expected.append(y)
    out = fps.line_integrator([y_star], [decay], drives, tokens, initial=2.0)
    assert out.shape == tokens.shape
    np.testing.assert_allclose(out[:, -1], expected, rtol=1e-5)


def test_line_integrator_uses_the_nearest_point():
    # Two points: near −1 the drive of token 1 is +1, near +1 it is −1; λ = 1 holds y between words.
    drives = np.array([[0.0, 1.0], [0.0, -1.0]])
    out = fps.line_integrator([-1.0, 1.0], [1.0, 1.0], drives, np.array([[1, 1, 1, 1]]), initial=-0.9)
    np.testing.assert_allclose(out[0], [0.1, -0.9, 0.1, -0.9], atol=1e-6)


def test_input_jacobians_are_the_input_effect():
    a = jnp.diag(jnp.array([1.0, 0.5]))
    b = jnp.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    step = lambda h, x: jnp.concatenate([a @ h[:2] + b[:2] @ x, b[2:] @ x])
    jac = fps.input_jacobians(step, jnp.zeros((5, 3)), 2)
    assert jac.shape == (5, 3, 2)
    np.testing.assert_allclose(jac[0], b)


def _switch(gain: float, n: int = 4):
    """A bistable switch: s ↦ tanh(gain s) along u, every other direction halved; readout uᵀh."""
    u = jnp.zeros(n).at[0].set(1.0)
    step = lambda h: u * jnp.tanh(gain * (u @ h)) + 0.5 * (h - u * (u @ h))
    return step, u


@pytest.mark.parametrize("gain", [2.0, 1.05])
def test_a_bistable_switch_is_not_a_line_attractor(gain):
    # Fast (gain 2) and slow (gain 1.05) switches: two stable points, a saddle between them.
    step, u = _switch(gain)
    candidates = jnp.linspace(-1.2, 1.2, 200)[:, None] * u + 0.01
    exact = fps.find_fixed_points(step, candidates, tol=1e-12)
    fixed = fps.unique(exact.points[exact.converged], 1e-3)
    kinds = fps.stability(fps.linearize(step, fixed).eigenvalues)
    assert sorted(kinds) == ["stable", "stable", "unstable"]
    stable = fixed[kinds == "stable"] @ np.asarray(u)
    slow = fps.find_fixed_points(step, candidates, tol=1e-5)
    points = fps.unique(slow.points[slow.converged], 1e-2)
    test = fps.line_attractor_test(points @ np.asarray(u), fps.linearize(step, points).eigenvalues,
                                   span=(stable.min(), stable.max()))
    assert not test.holds
    assert test.largest_gap > 0.2 or test.count < 20
    assert test.deviation > 0.02 and len(test.reasons) >= 2


def test_a_line_of_marginal_points_is_a_line_attractor():
    # s ↦ s along u (a line of fixed points, λ₁ = 1), every other direction halved.
    u = jnp.zeros(4).at[0].set(1.0)
    step = lambda h: u * (u @ h) + 0.5 * (h - u * (u @ h))
    points = np.linspace(-1, 1, 41)[:, None] * np.asarray(u)
    test = fps.line_attractor_test(points @ np.asarray(u), fps.linearize(step, points).eigenvalues, span=(-1, 1))
    assert test.holds and test.count == 41 and test.deviation < 1e-6 and test.reasons == ()


def test_a_few_stray_points_do_not_decide_the_line_test_unless_asked():
    # 41 marginal points, 3 of them (7 %) with |λ₁| = 0.9: the 90 % quantile ignores them,
    # the single worst point (quantile 1) does not.
    readouts = np.linspace(-1, 1, 41)
    eigenvalues = np.ones((41, 2)) * [1.0, 0.5]
    eigenvalues[[18, 20, 22], 0] = 0.9
    assert fps.line_attractor_test(readouts, eigenvalues, span=(-1, 1)).holds
    strict = fps.line_attractor_test(readouts, eigenvalues, span=(-1, 1), quantile=1.0)
    assert not strict.holds and strict.deviation == pytest.approx(0.1)
    assert strict.reasons == ("|λ₁| off 1 by more than 0.02 (0.100)",)


def test_sample_states_draws_from_trajectories():
    trajectories = jnp.arange(24.0).reshape(2, 3, 4)
    picked = np.asarray(fps.sample_states(trajectories, 10, key=runtime.key(0)))
    rows = np.asarray(trajectories).reshape(-1, 4)
    assert all((rows == p).all(axis=1).any() for p in picked)


def test_bad_inputs_get_clear_errors():
    step = lambda h: 0.5 * h
    with pytest.raises(ValueError, match="candidates"):
        fps.find_fixed_points(step, jnp.ones(3))
    with pytest.raises(ValueError, match="candidates"):
        fps.find_fixed_points(step, jnp.full((2, 3), jnp.nan))
    with pytest.raises(TypeError, match="candidates"):
        fps.find_fixed_points(step, jnp.ones((2, 3), int))
    with pytest.raises(ValueError, match="step"):
        fps.find_fixed_points(lambda h: h[:2], jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="step"):
        fps.find_fixed_points("tanh", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="tol"):
        fps.find_fixed_points(step, jnp.ones((2, 3)), tol=0.0)
    with pytest.raises(ValueError, match="method"):
        fps.find_fixed_points(step, jnp.ones((2, 3)), method="newton")
    with pytest.raises(ValueError, match="max_iters"):
        fps.find_fixed_points(step, jnp.ones((2, 3)), max_iters=0)
    with pytest.raises(ValueError, match="points"):
        fps.unique(np.ones(3), 0.1)
    with pytest.raises(ValueError, match="x must"):
        fps.principal_components(np.ones(3))
    with pytest.raises(ValueError, match="drives"):
        fps.line_integrator([0.0], [0.9], np.ones((2, 3)), np.ones((1, 3), int), initial=0.0)
    with pytest.raises(ValueError, match="tokens"):
        fps.line_integrator([0.0], [0.9], np.ones((1, 3)), np.ones(3), initial=0.0)
    with pytest.raises(ValueError, match="initial"):
        fps.line_integrator([0.0], [0.9], np.ones((1, 3)), np.ones((1, 3), int), initial=np.nan)
    with pytest.raises(ValueError, match="span"):
        fps.line_attractor_test([0.0], [[1.0]], span=(1, 0))
    with pytest.raises(ValueError, match="eigenvalues"):
        fps.stability(np.ones(3))


def test_batched_search_matches_all_at_once():
    step = lambda h: jnp.tanh(2 * h)
    candidates = jax.random.normal(runtime.key(4), (10, 3))
    whole = fps.find_fixed_points(step, candidates)
    sliced = fps.find_fixed_points(step, candidates, batch_size=4)
    np.testing.assert_allclose(whole.points, sliced.points, atol=1e-6)


def test_slow_points_are_distinct_sorted_and_inside_the_visited_range():
    u = jnp.zeros(3).at[0].set(1.0)
    step = lambda h: u * (u @ h) + 0.5 * (h - u * (u @ h))      # every point on the u axis is fixed
    visited = np.concatenate([np.linspace(-1, 1, 200)[:, None], 0.1 * np.ones((200, 2))], axis=1)
    readout = lambda h: np.asarray(h)[:, 0]
    points = fps.slow_points(step, visited, readout, count=300, slow=1e-8, radius=0.05, key=runtime.key(0))
    values = readout(points)
    assert np.all(np.diff(values) > 0) and -1 <= values.min() and values.max() <= 1
    assert len(points) > 20 and np.abs(points[:, 1:]).max() < 1e-3      # on the line, off-line modes gone
    assert np.min(np.linalg.norm(points[1:] - points[:-1], axis=1)) >= 0.05


def test_readout_drives_project_the_input_on_the_slow_mode():
    a = jnp.diag(jnp.array([1.0, 0.5]))
    step = lambda h: a @ h
    lin = fps.linearize(step, np.zeros((2, 2)))
    B = np.broadcast_to(np.array([[2.0, 0.0], [0.0, 3.0]]), (2, 2, 2))
    drives = fps.readout_drives(lin, B, np.eye(2), np.array([0.5, 1.0]))
    np.testing.assert_allclose(drives, [[1.0, 0.0], [1.0, 0.0]])   # (wᵀr₁)(ℓ₁ᵀ B x) = 0.5 · 2 x₀
    with pytest.raises(ValueError, match="readout_direction"):
        fps.readout_drives(lin, B, np.eye(2), np.ones(3))


def _flip_flops():
    """Three independent bistable units h ↦ tanh(2h + 3x): stable at ±h*, h* = tanh(2h*); a pulse
    ±1 on channel i sends unit i to the pulse's sign (tanh(3 − 2h*) > 0) and leaves the rest."""
    step = lambda h, x: jnp.tanh(2 * h + 3 * x)
    candidates = jax.random.uniform(runtime.key(5), (400, 3), minval=-1.5, maxval=1.5)
    pulses = np.concatenate([np.eye(3), -np.eye(3)])       # pulse p < 3: +e_p; p ≥ 3: −e_{p−3}
    return step, candidates, pulses


def _relabelled(graph, order):
    """The same graph with its nodes listed in ``order``: new node j is old node order[j]."""
    new = np.argsort(order)
    edges = frozenset((int(new[i]), p, int(new[j]) if j >= 0 else -1) for i, p, j in graph.edges)
    return fps.Topology(stable=graph.stable[order], edges=edges)


def test_three_flip_flops_have_the_topology_of_a_cube():
    step, candidates, pulses = _flip_flops()
    graph = fps.topology(step, candidates, pulses=pulses)
    h_star = brentq(lambda h: np.tanh(2 * h) - h, 0.5, 1.0)
    corners = np.sign(graph.stable)
    assert graph.stable.shape == (8, 3)
    assert sorted(map(tuple, corners)) == sorted(itertools.product([-1.0, 1.0], repeat=3))
    np.testing.assert_allclose(np.abs(graph.stable), h_star, atol=1e-4)   # float32 fixed points
    index = {tuple(c): i for i, c in enumerate(corners)}
    expected = set()
    for i, corner in enumerate(corners):
        for p, pulse in enumerate(pulses):
            unit = int(np.flatnonzero(pulse)[0])
            target = corner.copy()
            target[unit] = pulse[unit]
            expected.add((i, p, index[tuple(target)]))
    assert graph.edges == expected and len(graph.edges) == 48
    assert sum(i == j for i, _, j in graph.edges) == 24      # half the pulses find their unit set already


def test_topology_distance_is_zero_exactly_for_isomorphic_graphs():
    step, candidates, pulses = _flip_flops()
    graph = fps.topology(step, candidates, pulses=pulses)
    shuffled = _relabelled(graph, np.random.default_rng(0).permutation(8))
    assert fps.topology_distance(graph, graph) == 0.0
    assert fps.topology_distance(graph, shuffled) == 0.0
    assert fps.topology_distance(shuffled, graph) == 0.0
    # Redirect one edge: a labelled in-degree changes, so no bijection helps; one of 48 edges differs.
    i, p, j = sorted(graph.edges)[1]
    redirected = fps.Topology(stable=graph.stable,
                              edges=(graph.edges - {(i, p, j)}) | {(i, p, (j + 1) % 8)})
    assert fps.topology_distance(graph, redirected) == pytest.approx(1 / 48)
    assert fps.topology_distance(shuffled, redirected) == pytest.approx(1 / 48)
    # Drop corner 0: seven nodes, pulses that reached it now reach no stable point.
    kept = np.arange(1, 8)
    smaller = fps.Topology(stable=graph.stable[kept],
                           edges=frozenset((i - 1, p, j - 1 if j > 0 else -1)
                                           for i, p, j in graph.edges if i > 0))
    assert 1 < fps.topology_distance(graph, smaller) < 2


def test_topology_distance_of_small_graphs():
    one, two = np.zeros((1, 2)), np.zeros((2, 2))
    swap = fps.Topology(stable=two, edges=frozenset({(0, 0, 1), (1, 0, 0)}))
    stay = fps.Topology(stable=two, edges=frozenset({(0, 0, 0), (1, 0, 1)}))
    assert fps.topology_distance(swap, stay) == 1.0            # every edge differs under both bijections
    loop = fps.Topology(stable=one, edges=frozenset({(0, 0, 0)}))
    away = fps.Topology(stable=one, edges=frozenset({(0, 0, -1)}))
    assert fps.topology_distance(loop, away) == 1.0            # "no stable point" is not a node to map
    other_pulse = fps.Topology(stable=one, edges=frozenset({(0, 1, 0)}))
    assert fps.topology_distance(loop, other_pulse) == 1.0      # pulse labels are never permuted
    empty = fps.Topology(stable=np.zeros((0, 2)), edges=frozenset())
    assert fps.topology_distance(empty, empty) == 0.0
    assert fps.topology_distance(empty, loop) == 2.0           # one node more, and none of its edges


def test_a_pulse_that_does_not_settle_goes_nowhere():
    # h ↦ h/2 + x: one stable point, 0. A pulse of 100 is still 100/2⁴ away after 3 quiet steps.
    leak = lambda h, x: 0.5 * h + x
    candidates = jnp.ones((4, 1))
    pulses = np.array([[0.01], [100.0]])
    graph = fps.topology(leak, candidates, pulses=pulses, settle_steps=3, radius=0.1)
    np.testing.assert_allclose(graph.stable, [[0.0]], atol=1e-5)
    assert graph.edges == {(0, 0, 0), (0, 1, -1)}
    # h ↦ 2h³ + x: 0 is stable, ±1/√2 unstable; a pulse past them diverges to infinity.
    cubic = lambda h, x: 2 * h ** 3 + x
    graph = fps.topology(cubic, jnp.full((4, 1), 0.1), pulses=np.array([[0.2], [2.0]]), settle_steps=20)
    assert len(graph.stable) == 1 and graph.edges == {(0, 0, 0), (0, 1, -1)}


def test_a_network_with_no_stable_point_has_an_empty_topology():
    graph = fps.topology(lambda h, x: 2 * h + x, jnp.ones((3, 2)), pulses=np.eye(2))
    assert graph.stable.shape == (0, 2) and graph.edges == frozenset()


def test_topology_bad_inputs_get_clear_errors():
    step, candidates, pulses = _flip_flops()
    with pytest.raises(ValueError, match="pulses"):
        fps.topology(step, candidates, pulses=np.ones(3))
    with pytest.raises(ValueError, match="pulses"):
        fps.topology(step, candidates, pulses=np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="pulses"):
        fps.topology(lambda h, x: jnp.tanh(2 * h + jnp.ones((3, 2)) @ x), candidates, pulses=pulses)
    with pytest.raises(ValueError, match="step"):
        fps.topology(lambda h, x: h[:2] + x[:2], candidates, pulses=pulses)
    with pytest.raises(TypeError, match="step"):
        fps.topology("tanh", candidates, pulses=pulses)
    with pytest.raises(ValueError, match="candidates"):
        fps.topology(step, np.ones(3), pulses=pulses)
    with pytest.raises(ValueError, match="settle_steps"):
        fps.topology(step, candidates, pulses=pulses, settle_steps=0)
    with pytest.raises(ValueError, match="radius"):
        fps.topology(step, candidates, pulses=pulses, radius=-1.0)
    graph = fps.Topology(stable=np.zeros((9, 1)), edges=frozenset({(0, 0, 1)}))
    with pytest.raises(ValueError, match="max_nodes"):
        fps.topology_distance(graph, graph)
    with pytest.raises(TypeError, match="b must be a Topology"):
        fps.topology_distance(graph, {(0, 0, 1)})
    with pytest.raises(ValueError, match="a.edges"):
        fps.topology_distance(fps.Topology(stable=np.zeros((2, 1)), edges=frozenset({(0, 0, 2)})), graph)


def test_topology_keeps_only_the_memories_no_pulse_leaves():
    # h ↦ tanh(2h + 3x) keeps ±h*; an extra stable point at h = 10 (slope ½ there) is left
    # by both pulses for +h* and never entered: the flip-flop's "nothing stored yet".
    def step(h, x):
        far = 10 + 0.5 * (h - 10) - 9.5 * jnp.sum(x ** 2)
        return jnp.where(h > 5, far, jnp.tanh(2 * h + 3 * x))

    candidates = jnp.array([[-1.0], [-0.9], [0.9], [1.0], [9.0], [10.5]])
    pulses = np.array([[1.0], [-1.0]])
    every = fps.topology(step, candidates, pulses=pulses, settle_steps=50, closed=False)
    assert len(every.stable) == 3
    far = int(np.argmax(every.stable[:, 0]))
    plus = int(np.argmin(np.abs(every.stable[:, 0] - 0.957)))
    assert {(far, 0, plus), (far, 1, plus)} <= every.edges
    memories = fps.topology(step, candidates, pulses=pulses, settle_steps=50)
    np.testing.assert_allclose(np.sort(memories.stable[:, 0]), [-0.9575, 0.9575], atol=1e-3)
    up = int(np.argmax(memories.stable[:, 0]))
    assert memories.edges == {(up, 0, up), (up, 1, 1 - up), (1 - up, 0, up), (1 - up, 1, 1 - up)}
