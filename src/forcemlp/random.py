"""Seeded random numbers that the browser draws bit for bit the same.

    from forcemlp.random import SeededNormal
    SeededNormal(seed=0).standard_normal((2, 3))

The Python twin of ``widgets/js/random.js``: the explorer's SGD noise, the playground's toy
data and the gradient widget's initial weights are the same numbers in both languages.
"""
from __future__ import annotations

import math

import numpy as np

UINT32 = 0xFFFFFFFF


class SeededNormal:
    """Standard normal numbers from a seed, the same in Python and in the browser.

    mulberry32 (a 32-bit generator that JavaScript computes exactly) and Box–Muller, written
    operation for operation like ``SeededNormal`` in ``widgets/js/random.js``: the explorer's
    SGD noise in the page is the noise ``descend("sgd", ...)`` adds here.
    """

    def __init__(self, seed: int = 0):
        self.state = int(seed) & UINT32

    def next_uint32(self) -> int:
        """The next 32-bit unsigned integer of mulberry32."""
        self.state = (self.state + 0x6D2B79F5) & UINT32
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & UINT32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & UINT32)) & UINT32
        return (t ^ (t >> 14)) & UINT32

    def uniform(self) -> float:
        """Uniform in (0, 1): never 0, so its logarithm is finite."""
        return (self.next_uint32() + 0.5) / 4294967296.0

    def normal(self) -> float:
        """Box–Muller on two uniforms (the sine half is not used)."""
        radius = math.sqrt(-2.0 * math.log(self.uniform()))
        return radius * math.cos(2.0 * math.pi * self.uniform())

    def standard_normal(self, shape: int | tuple[int, ...] = ()) -> np.ndarray:
        """An array of standard normal numbers, drawn in C order."""
        values = np.empty(shape)
        for index in np.ndindex(values.shape):
            values[index] = self.normal()
        return values
