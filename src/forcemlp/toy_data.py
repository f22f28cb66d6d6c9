"""The playground's 2-D datasets, point for point the same as its JavaScript (toy_data.js).

    from forcemlp.toy_data import make_dataset
    data = make_dataset("spiral", count=400, noise=0.3, seed=1)
    data.train.points, data.train.labels, data.test.points, data.test.labels

Four classic pictures of two classes in the plane [-6, 6]²: two Gaussian clusters, a disc
inside a ring, XOR's four quadrants and two interleaved spiral arms. Each point is clean
geometry plus Gaussian jitter of standard deviation ``noise``; it keeps the label of the class
it was drawn for, so jitter makes the classes overlap (what a network can then overfit). The
random numbers come from :class:`forcemlp.random.SeededNormal` (mulberry32 and Box-Muller),
which random.js computes identically, so the page and the package draw the very same points
for the same seed.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import pick
from .errors import ForceMLPError
from .random import SeededNormal

PLANE_RADIUS = 6.0
CLUSTER_SPREAD = 0.8  # gaussians: standard deviation of each clean cluster
CIRCLE_RADIUS = 5.0
XOR_PADDING = 0.3  # xor: clean points keep this far from the axes


Point = tuple[float, float, int]


def _gaussians(index: int, count: int, random: SeededNormal) -> Point:
    label = 1 if index < count / 2 else 0
    centre = 2.0 if label == 1 else -2.0
    x = centre + CLUSTER_SPREAD * random.normal()
    return x, centre + CLUSTER_SPREAD * random.normal(), label


def _circle(index: int, count: int, random: SeededNormal) -> Point:
    label = 1 if index < count / 2 else 0
    if label == 1:
        radius = random.uniform() * 0.5 * CIRCLE_RADIUS
    else:
        radius = CIRCLE_RADIUS * (0.7 + 0.3 * random.uniform())
    angle = 2.0 * math.pi * random.uniform()
    return radius * math.sin(angle), radius * math.cos(angle), label


def _xor(index: int, count: int, random: SeededNormal) -> Point:
    x = 10.0 * random.uniform() - 5.0
    y = 10.0 * random.uniform() - 5.0
    x += XOR_PADDING if x > 0 else -XOR_PADDING
    y += XOR_PADDING if y > 0 else -XOR_PADDING
    return x, y, 1 if x * y >= 0 else 0


def _spiral(index: int, count: int, random: SeededNormal) -> Point:
    half = math.ceil(count / 2)
    label = 1 if index < half else 0
    along = (index if label == 1 else index - half) / half
    radius = 5.0 * along
    angle = 1.75 * 2.0 * math.pi * along + (0.0 if label == 1 else math.pi)
    return radius * math.sin(angle), radius * math.cos(angle), label


GEOMETRIES: dict[str, Callable[[int, int, SeededNormal], Point]] = {
    "gaussians": _gaussians, "circle": _circle, "xor": _xor, "spiral": _spiral,
}
DATASET_NAMES = tuple(GEOMETRIES)


@dataclass(frozen=True)
class PointSet:
    """Points (N, 2) in the plane and their labels (N,), 0 or 1."""

    points: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class ToyData:
    """A dataset's training and test points."""

    name: str
    train: PointSet
    test: PointSet


def make_dataset(
    name: str, count: int = 400, noise: float = 0.0, test_fraction: float = 0.5, seed: int = 0
) -> ToyData:
    """``count`` points of dataset ``name``, shuffled and split into training and test sets."""
    geometry = pick("dataset", name, GEOMETRIES)
    if not isinstance(count, int) or count < 4:
        raise ForceMLPError(f"count must be a whole number of at least 4 points, got {count!r}.")
    if not (math.isfinite(noise) and noise >= 0):
        raise ForceMLPError(f"noise must be a number >= 0 (plane units), got {noise!r}.")
    test_count = math.floor(count * test_fraction + 0.5)  # JavaScript's Math.round
    if not 0 < test_count < count:
        raise ForceMLPError(
            f"test_fraction {test_fraction!r} leaves no training or no test point:"
            " choose a fraction between 0 and 1, e.g. 0.5."
        )
    random = SeededNormal(seed)
    points, labels = [], []
    for index in range(count):
        x, y, label = geometry(index, count, random)
        points.append([x + noise * random.normal(), y + noise * random.normal()])
        labels.append(label)
    for index in range(count - 1, 0, -1):
        other = math.floor(random.uniform() * (index + 1))
        points[index], points[other] = points[other], points[index]
        labels[index], labels[other] = labels[other], labels[index]
    points_array, labels_array = np.array(points), np.array(labels, dtype=np.int64)
    train_count = count - test_count
    return ToyData(
        name=name,
        train=PointSet(points_array[:train_count], labels_array[:train_count]),
        test=PointSet(points_array[train_count:], labels_array[train_count:]),
    )
