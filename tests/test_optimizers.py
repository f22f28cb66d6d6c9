"""Each NumPy optimizer replayed against torch.optim; each surface gradient against autograd."""
import warnings

import numpy as np
import pytest
import torch

from forcemlp.descent import base_learning_rate, descend, largest_curvature
from forcemlp.errors import ForceMLPError
from forcemlp.optimizers import OPTIMIZER_NAMES, make_optimizer
from forcemlp.random import SeededNormal
from forcemlp.surfaces import SURFACES

STEPS = 40
MOMENTUM = 0.7
# float64 on both sides, relative 1e-9: the two implementations only differ in rounding
# (torch fuses some operations); measured: at most 1.2e-13 relative over 40 steps.
RTOL, ATOL = 1e-9, 1e-12

# Learning rates that make each walk travel far without diverging, so the comparison covers
# the interesting part of the surface (momentum's and Adagrad's state grow over many steps).
LEARNING_RATES = {
    "ravine": {"gd": 0.3, "sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5,
               "adadelta": 1.0, "rmsprop": 0.1, "adam": 0.3},
    "rosenbrock": {"gd": 1e-3, "sgd": 1e-3, "momentum": 5e-4, "nesterov": 5e-4, "adagrad": 0.3,
                   "adadelta": 1.0, "rmsprop": 0.01, "adam": 0.1},
}


def torch_optimizer(name, parameter, learning_rate):
    """The torch.optim twin of each of our optimizers, with torch's defaults."""
    optim = torch.optim
    return {
        "gd": lambda: optim.SGD([parameter], lr=learning_rate),
        "sgd": lambda: optim.SGD([parameter], lr=learning_rate),
        "momentum": lambda: optim.SGD([parameter], lr=learning_rate, momentum=MOMENTUM),
        "nesterov": lambda: optim.SGD(
            [parameter], lr=learning_rate, momentum=MOMENTUM, nesterov=True
        ),
        "adagrad": lambda: optim.Adagrad([parameter], lr=learning_rate),
        "adadelta": lambda: optim.Adadelta([parameter], lr=learning_rate),
        "rmsprop": lambda: optim.RMSprop([parameter], lr=learning_rate),
        "adam": lambda: optim.Adam([parameter], lr=learning_rate),
    }[name]()


def torch_trajectory(optimizer_name, surface_name, learning_rate, seed=0):
    """torch.optim walking the surface, its gradient from autograd on the same formula.

    For "sgd" the same Gaussian noise (SeededNormal, which the browser draws too) is added to
    the gradient before torch's plain SGD step: ours is specified as exactly that.
    """
    surface = SURFACES[surface_name]
    noise = SeededNormal(seed)
    parameter = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    optimizer = torch_optimizer(optimizer_name, parameter, learning_rate)
    points = [parameter.detach().numpy().copy()]
    for _ in range(STEPS):
        optimizer.zero_grad()
        surface.function(parameter).backward()
        if optimizer_name == "sgd":
            parameter.grad += torch.from_numpy(surface.gradient_noise * noise.standard_normal(2))
        optimizer.step()
        points.append(parameter.detach().numpy().copy())
    return np.array(points)


@pytest.mark.parametrize("surface_name", sorted(LEARNING_RATES))
@pytest.mark.parametrize("optimizer_name", OPTIMIZER_NAMES)
def test_every_step_equals_torch_optim(optimizer_name, surface_name):
    learning_rate = LEARNING_RATES[surface_name][optimizer_name]
    path = descend(optimizer_name, surface_name, learning_rate, STEPS, momentum=MOMENTUM)
    assert not path.diverged
    expected = torch_trajectory(optimizer_name, surface_name, learning_rate)
    np.testing.assert_allclose(path.points, expected, rtol=RTOL, atol=ATOL)
    # the walk really went somewhere, so the comparison is not between two standing points
    assert np.linalg.norm(path.points[-1] - path.points[0]) > 0.1


@pytest.mark.parametrize("surface_name", SURFACES)
def test_surface_gradient_equals_autograd(surface_name):
    surface = SURFACES[surface_name]
    low = np.array([surface.x_range[0], surface.y_range[0]])
    high = np.array([surface.x_range[1], surface.y_range[1]])
    points = np.random.default_rng(1).uniform(low, high, size=(50, 2))
    tensor = torch.tensor(points, requires_grad=True)
    surface.function(tensor).sum().backward()
    np.testing.assert_allclose(surface.gradient(points), tensor.grad.numpy(), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("surface_name", SURFACES)
def test_surface_minimum_is_flat_and_lowest(surface_name):
    surface = SURFACES[surface_name]
    if surface.minimum is None:
        assert surface.function(np.array([0.0, 1.0])) < surface.function(np.zeros(2))
        return
    np.testing.assert_allclose(surface.gradient(surface.minimum), 0.0, atol=1e-12)
    for other in surface.other_minima:  # as deep, and flat to the digits given
        assert surface.function(np.array(other)) == pytest.approx(0.0, abs=1e-9)
        np.testing.assert_allclose(surface.gradient(np.array(other)), 0.0, atol=1e-4)
    xs = np.linspace(*surface.x_range, 101)
    ys = np.linspace(*surface.y_range, 101)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    assert surface.function(grid).min() >= surface.function(surface.minimum)


def test_gradient_descent_crosses_the_ravine_to_its_minimum():
    path = descend("gd", "ravine", learning_rate=0.9, steps=300)
    assert not path.diverged
    assert np.linalg.norm(path.points[-1]) < 1e-6
    assert path.losses[-1] < 1e-12 < path.losses[0]


@pytest.mark.parametrize("optimizer_name", ["gd", "momentum", "adam"])
def test_divergence_is_flagged_not_raised(optimizer_name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = descend(optimizer_name, "rosenbrock", learning_rate=50.0, steps=60)
    assert path.diverged and 1 <= path.diverged_at <= 60
    assert path.points.shape == (61, 2) and path.losses.shape == (61,)
    assert np.all(np.isfinite(path.points)) and np.all(np.isfinite(path.losses))
    # after the last good point the walk stands still
    assert np.all(path.points[path.diverged_at:] == path.points[path.diverged_at - 1])


def test_sgd_noise_is_seeded():
    first = descend("sgd", "beale", 0.01, 30, seed=3).points
    assert np.array_equal(first, descend("sgd", "beale", 0.01, 30, seed=3).points)
    assert not np.array_equal(first, descend("sgd", "beale", 0.01, 30, seed=4).points)
    assert not np.array_equal(first, descend("gd", "beale", 0.01, 30).points)


def test_a_custom_start_and_zero_steps():
    path = descend("adam", "saddle", 0.1, 0, start=(0.5, -0.5))
    np.testing.assert_array_equal(path.points, [[0.5, -0.5]])
    assert path.losses.tolist() == [0.0] and not path.diverged


def test_optimizers_work_on_arrays_of_any_shape():
    optimizer = make_optimizer("adam", 0.1)
    params = np.ones((3, 4))
    updated = optimizer.step(params, np.full((3, 4), 2.0))
    np.testing.assert_allclose(updated, 0.9)  # Adam's first step moves by η per coordinate


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: descend("lbfgs", "ravine", 0.1, 10), "unknown optimizer 'lbfgs'"),
        (lambda: descend("adam", "bukin", 0.1, 10), "unknown surface 'bukin'"),
        (lambda: descend("adam", "ravine", -0.1, 10), "learning rate must be a positive"),
        (lambda: descend("adam", "ravine", 0.1, -1), "steps must be"),
        (lambda: descend("momentum", "ravine", 0.1, 10, momentum=1.5), "momentum must lie"),
        (lambda: descend("adam", "ravine", 0.1, 10, start=(np.nan, 0)), "start must be"),
    ],
)
def test_bad_arguments_raise_one_clear_error(call, message):
    with pytest.raises(ForceMLPError, match=message):
        call()


def test_seeded_normal_is_standard_normal_and_reproducible():
    values = SeededNormal(0).standard_normal(20_000)
    assert abs(values.mean()) < 0.03 and abs(values.std() - 1) < 0.03
    assert np.array_equal(values[:10], SeededNormal(0).standard_normal(10))
    assert not np.array_equal(values[:10], SeededNormal(1).standard_normal(10))
    # mulberry32's first outputs for seed 0 (the sequence the browser test also checks)
    random = SeededNormal(0)
    assert [random.next_uint32() for _ in range(3)] == [1144304738, 1416247, 958946056]


def test_base_learning_rate_is_one_over_the_curvature():
    """Gradient-style optimizers' x1 is 1/L with L the Hessian's largest eigenvalue: 2 for
    x^2/20 + y^2 everywhere, and Rosenbrock's analytic Hessian at any start."""
    assert base_learning_rate("ravine", "gd") == pytest.approx(0.5, rel=1e-6)
    for x, y in (SURFACES["rosenbrock"].start, (0.3, -0.4)):
        hessian = np.array([[1200 * x**2 - 400 * y + 2, -400 * x], [-400 * x, 200]])
        curvature = np.abs(np.linalg.eigvalsh(hessian)).max()
        assert largest_curvature("rosenbrock", (x, y)) == pytest.approx(curvature, rel=1e-6)
        assert base_learning_rate("rosenbrock", "momentum", (x, y)) == pytest.approx(
            1 / curvature, rel=1e-6)
    assert base_learning_rate("beale", "adam") == pytest.approx(0.02 * 9.0)
    with pytest.raises(ForceMLPError, match="unknown optimizer"):
        base_learning_rate("ravine", "lbfgs")
