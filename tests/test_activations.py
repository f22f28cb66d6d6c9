"""Every activation and derivative against PyTorch (torch.nn.functional and autograd)."""
import itertools
import math
import warnings

import numpy as np
import pytest
import torch

from forcemlp.activations import ACTIVATIONS, compose_linear_layers, erfc, get_activation
from forcemlp.errors import ForceMLPError

from .torch_twins import torch_function

# A grid through the interesting middle plus values far out in both tails, where naive
# formulas overflow (e^1000) or lose every digit (1 - σ(40)).
GRID = np.concatenate(
    [np.linspace(-8, 8, 641), [-1e4, -745, -100, -40, -20.5, 0.0, 20.5, 40, 100, 745, 1e4]]
)

# float64 tolerances, absolute because far in the tails torch's own formulas round to 0 (it
# computes σ' as y(1 - y), which is 0 at x = 40; ours keeps 4e-18), so relative errors there
# measure torch, not us. Measured: at most 1.3e-15 everywhere, except softplus: torch switches
# to the straight line x above x = 20 (its `threshold`), which is off by e^-20.5 ≈ 1.25e-9.
RTOL = 1e-12
ATOL = {"softplus": 2e-9}
DEFAULT_ATOL = 1e-14

CASES = [
    (name, parameter)
    for name, activation in ACTIVATIONS.items()
    for parameter in (
        [None] if activation.parameter_name is None else [None, *activation.parameter_range]
    )
]


def torch_value_and_gradient(name, parameter, points):
    x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    y = torch_function(name, parameter)(x)
    (gradient,) = torch.autograd.grad(y.sum(), x)
    return y.detach().numpy(), gradient.numpy()


@pytest.mark.parametrize("name, parameter", CASES)
def test_function_and_derivative_equal_torch_autograd(name, parameter):
    activation = ACTIVATIONS[name]
    value = activation.default_parameter if parameter is None else parameter
    expected_y, expected_dy = torch_value_and_gradient(name, parameter, GRID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings even at ±1e4
        y = activation.function(GRID) if parameter is None else activation.function(GRID, value)
        dy = activation.derivative(GRID, value)
    atol = ATOL.get(name, DEFAULT_ATOL)
    np.testing.assert_allclose(y, expected_y, rtol=RTOL, atol=atol)
    np.testing.assert_allclose(dy, expected_dy, rtol=RTOL, atol=atol)


def test_sigmoid_derivative_peaks_at_one_quarter():
    derivative = ACTIVATIONS["sigmoid"].derivative
    assert derivative(0.0) == 0.25
    assert derivative(GRID).max() == 0.25


def test_every_activation_describes_itself():
    for name, activation in ACTIVATIONS.items():
        assert activation.name == name and activation.title and activation.note
        has_parameter = activation.parameter_name is not None
        assert (activation.default_parameter is not None) == has_parameter
        if has_parameter:
            low, high = activation.parameter_range
            assert low <= activation.default_parameter <= high


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ForceMLPError, match="relu, leaky_relu"):
        get_activation("swishy")


def test_stacked_linear_layers_collapse_to_one():
    rng = np.random.default_rng(0)
    sizes = [5, 7, 4, 3]
    layers = [
        (rng.normal(size=(out, inp)), rng.normal(size=out))
        for inp, out in itertools.pairwise(sizes)
    ]
    inputs = rng.normal(size=(50, 5))
    stacked = inputs
    for weight, bias in layers:
        stacked = ACTIVATIONS["linear"].function(stacked @ weight.T + bias)
    weight, bias = compose_linear_layers(layers)
    assert weight.shape == (3, 5)
    np.testing.assert_allclose(inputs @ weight.T + bias, stacked, rtol=1e-12)
    # With a ReLU in between no single matrix reproduces the stack: the best linear fit misses.
    hidden = ACTIVATIONS["relu"].function(inputs @ layers[0][0].T + layers[0][1])
    relu_output = hidden @ layers[1][0].T + layers[1][1]
    design = np.hstack([inputs, np.ones((50, 1))])
    fit, *_ = np.linalg.lstsq(design, relu_output, rcond=None)
    assert np.abs(design @ fit - relu_output).max() > 1e-3


def test_erfc_equals_math_erfc_across_its_range():
    """GELU's erfc, vectorised, against Python's math.erfc: through zero, both branch
    boundaries (0.46875 and 4) and the right tail until erfc(x) stops being a normal float."""
    tiny = np.geomspace(1e-300, 0.5, 601)
    xs = np.concatenate([np.linspace(-6, 26.5, 20001), tiny, -tiny, [0.0, -0.46875, 4.0]])
    expected = np.array([math.erfc(x) for x in xs])
    np.testing.assert_allclose(erfc(xs), expected, rtol=2e-15, atol=0)
    # Measured: at most 8.7e-16 relative on this grid.
    infinities = erfc(np.array([np.inf, -np.inf, 1e4, -1e4]))
    np.testing.assert_array_equal(infinities, [0.0, 2.0, 0.0, 2.0])
