"""The ``torch.nn.functional`` twin of each forcemlp activation: the oracle the tests hold ours to.

    from .torch_twins import torch_function
    torch_function("elu", 0.5)(tensor)
"""
from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F

from forcemlp.activations import get_activation


def torch_function(name: str, parameter: float | None = None) -> Callable:
    """The torch function computing activation ``name`` (its default parameter if None)."""
    activation = get_activation(name)
    value = activation.default_parameter if parameter is None else parameter
    twins = {
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=value),
        "elu": lambda x: F.elu(x, alpha=value),
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "softplus": F.softplus,
        "gelu": F.gelu,
        "silu": F.silu,
        "linear": lambda x: x,
    }
    return twins[name]
