"""The playground's 2-D datasets: their geometry, their noise, their split, their seeds."""
import numpy as np
import pytest

from forcemlp.errors import ForceMLPError
from forcemlp.toy_data import DATASET_NAMES, PLANE_RADIUS, SeededNormal, make_dataset


def all_points(data):
    return (np.concatenate([data.train.points, data.test.points]),
            np.concatenate([data.train.labels, data.test.labels]))


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_split_sizes_balance_and_plane(name):
    data = make_dataset(name, count=400, noise=0.3, test_fraction=0.25, seed=4)
    assert len(data.train) == 300 and len(data.test) == 100
    points, labels = all_points(data)
    assert points.shape == (400, 2) and set(np.unique(labels)) == {0, 1}
    assert 0.4 < labels.mean() < 0.6
    assert np.abs(points).max() < PLANE_RADIUS + 1.5  # a few jittered points may stray a little


def test_clean_geometry_of_each_dataset():
    points, labels = all_points(make_dataset("gaussians", noise=0.0, seed=1))
    assert np.mean((points.sum(axis=1) > 0) == (labels == 1)) > 0.98  # split by x + y = 0
    points, labels = all_points(make_dataset("circle", noise=0.0, seed=1))
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius[labels == 1].max() <= 2.5 and radius[labels == 0].min() >= 3.5
    points, labels = all_points(make_dataset("xor", noise=0.0, seed=1))
    assert np.all((points[:, 0] * points[:, 1] >= 0) == (labels == 1))
    assert np.abs(points).min() >= 0.3  # kept off the axes
    points, labels = all_points(make_dataset("spiral", noise=0.0, seed=1))
    arm = points[labels == 1]
    order = np.argsort(np.hypot(arm[:, 0], arm[:, 1]))
    turning = np.unwrap(np.arctan2(arm[order, 0], arm[order, 1]))
    assert turning[-1] - turning[0] == pytest.approx(1.75 * 2 * np.pi, abs=0.2)  # 1.75 turns


def test_noise_makes_classes_overlap():
    def xor_rule_broken(noise):
        points, labels = all_points(make_dataset("xor", noise=noise, seed=2))
        return np.mean((points[:, 0] * points[:, 1] >= 0) != (labels == 1))

    assert xor_rule_broken(0.0) == 0
    assert 0 < xor_rule_broken(0.5) < xor_rule_broken(2.0) < 0.5


def test_seeds_reproduce_and_differ():
    first, again = make_dataset("spiral", noise=0.4, seed=9), make_dataset("spiral", noise=0.4, seed=9)
    other = make_dataset("spiral", noise=0.4, seed=10)
    assert np.array_equal(first.train.points, again.train.points)
    assert not np.array_equal(first.train.points, other.train.points)


def test_generator_is_uniform_and_normal():
    random = SeededNormal(123)
    uniforms = np.array([random.uniform() for _ in range(20000)])
    assert uniforms.min() > 0 and uniforms.max() < 1
    assert abs(uniforms.mean() - 0.5) < 0.01 and abs(uniforms.var() - 1 / 12) < 0.003
    normals = np.array([random.normal() for _ in range(20000)])
    assert abs(normals.mean()) < 0.03 and abs(normals.std() - 1) < 0.03


@pytest.mark.parametrize("arguments, message", [
    ({"name": "moons"}, "unknown dataset"),
    ({"name": "xor", "noise": -1.0}, "noise"),
    ({"name": "xor", "noise": float("nan")}, "noise"),
    ({"name": "xor", "count": 2}, "count"),
    ({"name": "xor", "test_fraction": 1.0}, "test_fraction"),
])
def test_bad_arguments_raise_one_line(arguments, message):
    with pytest.raises(ForceMLPError, match=message) as error:
        make_dataset(**arguments)
    assert "\n" not in str(error.value)
