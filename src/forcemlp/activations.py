"""Activation functions and their derivatives, in NumPy, numerically stable for any input.

    from forcemlp.activations import ACTIVATIONS
    relu = ACTIVATIONS["relu"]; relu.function(x), relu.derivative(x)

Each one is the function a hidden layer applies element-wise, h = g(z), and its derivative
g'(z), which backpropagation multiplies in: dE/dz = dE/dh * g'(z). Every formula is written to
stay finite for huge inputs (no overflow warnings), and every derivative is checked against torch
autograd in the tests.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import pick

ArrayFunction = Callable[..., np.ndarray]
ArrayLike = np.ndarray | float


@dataclass(frozen=True)
class Activation:
    """An activation g and its derivative g', both called as ``function(x, parameter)``.

    Leave ``parameter`` (leaky ReLU's slope, ELU's alpha) out to get ``default_parameter``;
    activations without one ignore it. ``note`` is the one thing to remember about it.
    """

    name: str
    title: str
    function: ArrayFunction
    derivative: ArrayFunction
    parameter_name: str | None = None
    default_parameter: float | None = None
    parameter_range: tuple[float, float] | None = None
    note: str = ""
    formula: str = ""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{-x}), computed from e^{-abs(x)} so it never overflows."""
    small = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


# erfc by W. J. Cody's rational approximations (SPECFUN's CALERF), the same constants and the
# same operations in the same order as erfc in widgets/js/activations.js (JavaScript has no
# Math.erfc): relative error below 1e-15 wherever erfc(x) is a normal float.
ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
         3.20937758913846947e03, 1.85777706184603153e-1)
ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
         2.84423683343917062e03)
ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
ERFC_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
ONE_OVER_SQRT_PI = 5.6418958354775628695e-1


def _rational(
    numerators: Sequence[float], denominators: Sequence[float], t: np.ndarray, terms: int
) -> tuple[np.ndarray, np.ndarray]:
    """Horner's rule for the numerator and denominator of one of Cody's fractions in t."""
    numerator, denominator = numerators[terms + 1] * t, t
    for i in range(terms):
        numerator = (numerator + numerators[i]) * t
        denominator = (denominator + denominators[i]) * t
    return numerator + numerators[terms], denominator + denominators[terms]


def erfc(x: ArrayLike) -> np.ndarray:
    """The complementary error function 1 − erf(x), element-wise, exact in the right tail too
    (where 1 − erf(x) would lose every digit)."""
    x = _array(x)
    y = np.abs(x)
    result = np.empty_like(y)
    near = y <= 0.46875
    middle = ~near & (y <= 4)
    tail = ~near & ~middle  # y > 4, and NaN
    # Near zero: erfc = 1 − x · P(y²)/Q(y²).
    small = y[near]
    numerator, denominator = _rational(ERF_A, ERF_B, np.where(small > 1.11e-16, small**2, 0.0), 3)
    result[near] = 1 - x[near] * numerator / denominator
    # Further out: erfc(|x|) = e^{-y²} R(y), with 1/y² in R beyond 4.
    numerator, denominator = _rational(ERFC_C, ERFC_D, y[middle], 7)
    result[middle] = numerator / denominator
    with np.errstate(divide="ignore", invalid="ignore"):  # 1/∞² and ∞ − ∞ at y = ∞
        far = y[tail]
        inverse_square = 1 / (far * far)
        numerator, denominator = _rational(ERFC_P, ERFC_Q, inverse_square, 4)
        result[tail] = (ONE_OVER_SQRT_PI - inverse_square * numerator / denominator) / far
        outer = ~near
        far = y[outer]
        # e^{-y²} as e^{-a²} e^{-(y-a)(y+a)} with a = y rounded down to 1/16: no digits lost.
        rounded = np.trunc(far * 16) / 16
        scaled = np.exp(-rounded * rounded) * np.exp(-(far - rounded) * (far + rounded))
        scaled = np.where(np.isinf(far), 0.0, scaled * result[outer])
    result[outer] = np.where(x[outer] < 0, 2 - scaled, scaled)
    return result


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = erfc(-x/√2) / 2: the standard normal CDF, accurate in both tails."""
    return 0.5 * erfc(-x / math.sqrt(2.0))


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    """φ(x) = e^{-x²/2} / √(2π)."""
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _array(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def relu(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """max(0, x)."""
    x = _array(x)
    return np.maximum(x, 0.0)


def relu_derivative(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """1 where x > 0, else 0 (0 at the kink, as PyTorch and TensorFlow choose)."""
    return (_array(x) > 0).astype(float)


def leaky_relu(x: ArrayLike, slope: float = 0.01) -> np.ndarray:
    """x where x > 0, else slope * x."""
    x = _array(x)
    return np.where(x > 0, x, slope * x)


def leaky_relu_derivative(x: ArrayLike, slope: float = 0.01) -> np.ndarray:
    """1 where x > 0, else slope."""
    return np.where(_array(x) > 0, 1.0, slope)


def elu(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """x where x > 0, else alpha * (e^x - 1)."""
    x = _array(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_derivative(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """1 where x > 0, else alpha * e^x."""
    x = _array(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def sigmoid(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{-x})."""
    return _sigmoid(_array(x))


def sigmoid_derivative(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """σ'(x) = σ(x)(1 - σ(x)) = σ(x)σ(-x); the second form stays exact far out in both tails."""
    x = _array(x)
    return _sigmoid(x) * _sigmoid(-x)


def tanh(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})."""
    return np.tanh(_array(x))


def tanh_derivative(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """tanh'(x) = 1 - tanh(x)² = 4 e^{-2|x|} / (1 + e^{-2|x|})²: the second form keeps every
    digit where tanh(x) is within a hair of ±1 (the first subtracts nearly equal numbers)."""
    small = np.exp(-2.0 * np.abs(_array(x)))
    return 4.0 * small / (1.0 + small) ** 2


def softplus(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log(1 + e^{-abs(x)}), which never overflows."""
    x = _array(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def gelu(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """x Φ(x), with Φ the standard normal CDF (the exact erf form, not the tanh estimate)."""
    x = _array(x)
    return x * _normal_cdf(x)


def gelu_derivative(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """Φ(x) + x φ(x)."""
    x = _array(x)
    return _normal_cdf(x) + x * _normal_pdf(x)


def silu(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """x σ(x) (also called swish)."""
    x = _array(x)
    return x * _sigmoid(x)


def silu_derivative(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """σ(x) + x σ(x)σ(-x)."""
    x = _array(x)
    return _sigmoid(x) + x * _sigmoid(x) * _sigmoid(-x)


def linear(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """x: no activation at all."""
    return _array(x).copy()


def linear_derivative(x: ArrayLike, parameter: float | None = None) -> np.ndarray:
    """1 everywhere."""
    return np.ones_like(_array(x))


ACTIVATIONS: dict[str, Activation] = {
    activation.name: activation
    for activation in (
        Activation(
            "relu", "ReLU", relu, relu_derivative,
            formula=r"\max(0, x)",
            note="derivative 1 or 0: no shrinking through depth, but a unit stuck below 0"
            " stops learning",
        ),
        Activation(
            "leaky_relu", "Leaky ReLU", leaky_relu, leaky_relu_derivative,
            parameter_name="slope", default_parameter=0.01, parameter_range=(0.0, 0.5),
            formula=r"x \text{ if } x > 0 \text{ else } a x",
            note="a small slope below 0 keeps every unit's gradient alive",
        ),
        Activation(
            "elu", "ELU", elu, elu_derivative,
            parameter_name="alpha", default_parameter=1.0, parameter_range=(0.1, 2.0),
            formula=r"x \text{ if } x > 0 \text{ else } \alpha (e^x - 1)",
            note="smooth below 0 and saturating at -alpha: outputs average closer to zero",
        ),
        Activation(
            "sigmoid", "Sigmoid", sigmoid, sigmoid_derivative,
            formula=r"\sigma(x) = 1 / (1 + e^{-x})",
            note="derivative never exceeds 0.25: gradients vanish through many layers",
        ),
        Activation(
            "tanh", "Tanh", tanh, tanh_derivative,
            formula=r"\tanh x",
            note="zero-centred with slope 1 at 0, but it saturates: gradients vanish for large |x|",
        ),
        Activation(
            "softplus", "Softplus", softplus, sigmoid,
            formula=r"\log(1 + e^x)",
            note="a smooth ReLU whose derivative is the sigmoid",
        ),
        Activation(
            "gelu", "GELU", gelu, gelu_derivative,
            formula=r"x \, \Phi(x)",
            note="x weighted by the chance a standard normal lies below it: smooth, dips below 0",
        ),
        Activation(
            "silu", "SiLU / swish", silu, silu_derivative,
            formula=r"x \, \sigma(x)",
            note="x gated by its own sigmoid: smooth like GELU, with a small dip below 0",
        ),
        Activation(
            "linear", "Linear (identity)", linear, linear_derivative,
            formula="x",
            note="no non-linearity: stacked linear layers collapse into one matrix",
        ),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``, or a one-line error listing the names that exist."""
    return pick("activation", name, ACTIVATIONS)


def compose_linear_layers(
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Collapse linear layers z = W x + b (applied first to last) into one (W, b).

    W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): without an activation between them, any
    stack of layers computes exactly what a single layer can.
    """
    weight, bias = (np.asarray(array, dtype=float) for array in layers[0])
    for next_weight, next_bias in layers[1:]:
        weight, bias = next_weight @ weight, next_weight @ bias + next_bias
    return weight, bias
