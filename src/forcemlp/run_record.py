"""What a run-cache record must be before it is served: a schema with types and ranges.

    result = check_record(json.loads(text), config)   # a RunResult, or DamagedRecord(reason)

A record read back from disk is untrusted: it may be truncated, edited by hand, written by
another version, or torn by a crash. :func:`check_record` accepts it only when its digest
matches its contents (so any edit is found, even one that keeps the schema) and every field
has the type and range a real run produces: the history's epochs numbered 1..n with a best
epoch among them, every number finite, accuracies in [0, 1], predictions and labels of one
length within the classes. Anything else raises :class:`DamagedRecord` saying what was wrong.
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
from typing import Any

from .config import NUM_CLASSES, TrainConfig
from .errors import ForceMLPError
from .history import RunResult

FORMAT = 3  # bump when the record's layout changes (3: a digest over the record)
MAX_TEST_COUNT = 10_000  # the test images of MNIST and Fashion-MNIST
MAX_TRAIN_SAMPLES = 60_000
METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


class DamagedRecord(ValueError):
    """A stored record that must not be served; the message says what is wrong with it."""


def digest(body: dict[str, Any]) -> str:
    """The sha256 of a record without its own digest, over one canonical JSON spelling."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode()).hexdigest()


def sealed(body: dict[str, Any]) -> bytes:
    """``body`` with its digest added, as strict JSON bytes (a non-finite number is refused)."""
    return json.dumps({**body, "sha256": digest(body)}, allow_nan=False).encode()


def check_record(record: Any, config: TrainConfig, source: str) -> RunResult:
    """The :class:`RunResult` in ``record`` if it is an intact record of ``config`` stored by
    package source ``source``, else :class:`DamagedRecord`."""
    if not isinstance(record, dict):
        raise DamagedRecord("not a record")
    body = {key: value for key, value in record.items() if key != "sha256"}
    try:
        intact = record.get("sha256") == digest(body)
    except (TypeError, ValueError):  # a non-finite number or a non-JSON value
        intact = False
    if not intact:
        raise DamagedRecord("its digest does not match its contents")
    if record.get("format") != FORMAT or record.get("source") != source:
        raise DamagedRecord("written by another version of forcemlp")
    if record.get("config") != config.to_dict():
        raise DamagedRecord("another configuration's record")
    sha256 = record.get("weights_sha256")
    if sha256 is not None and not (isinstance(sha256, str) and len(sha256) == 64):
        raise DamagedRecord("its weights digest is not a sha256")
    return check_result(record.get("result"), config)


def check_result(data: Any, config: TrainConfig) -> RunResult:
    """A :class:`RunResult` from JSON data if every field has a real run's type and range."""
    result = _mapping(data, "result", ("config", "history", "test", "seconds",
                                       "samples_per_second", "train_samples"))
    if result["config"] != config.to_dict():
        raise DamagedRecord("a result trained with another configuration")
    _check_history(result["history"])
    _check_test(result["test"])
    _number(result["seconds"], "seconds", minimum=0.0)
    _number(result["samples_per_second"], "samples_per_second", minimum=0.0)
    _whole(result["train_samples"], "train_samples", 1, MAX_TRAIN_SAMPLES)
    try:
        return RunResult.from_dict(result)
    except (KeyError, IndexError, TypeError, ValueError, ForceMLPError) as error:
        raise DamagedRecord(f"its result does not load ({type(error).__name__})") from None


def _check_history(data: Any) -> None:
    history = _mapping(data, "history", ("framework", "best_epoch", "epochs"))
    if not isinstance(history["framework"], str):
        raise DamagedRecord("its history names no framework")
    epochs = history["epochs"]
    if not isinstance(epochs, list) or not epochs:
        raise DamagedRecord("its history has no epochs")
    for number, metrics in enumerate(epochs, start=1):
        metrics = _mapping(metrics, "epoch", ("epoch", *METRICS))
        if _whole(metrics["epoch"], "epoch", 1, len(epochs)) != number:
            raise DamagedRecord("its epochs are not numbered 1, 2, 3, ...")
        for name in METRICS:
            top = 1.0 if name.endswith("accuracy") else math.inf
            _number(metrics[name], name, minimum=0.0, maximum=top)
    _whole(history["best_epoch"], "best_epoch", 1, len(epochs))


def _check_test(data: Any) -> None:
    test = _mapping(data, "test", ("loss", "accuracy", "labels", "predictions"))
    _number(test["loss"], "test loss", minimum=0.0)
    _number(test["accuracy"], "test accuracy", minimum=0.0, maximum=1.0)
    labels, predictions = test["labels"], test["predictions"]
    if not (isinstance(labels, list) and isinstance(predictions, list)
            and 0 < len(labels) == len(predictions) <= MAX_TEST_COUNT):
        raise DamagedRecord("its test labels and predictions are not one list each, of one length")
    for value in (*labels, *predictions):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < NUM_CLASSES:
            raise DamagedRecord(f"a test label or prediction outside 0..{NUM_CLASSES - 1}")


def _mapping(data: Any, name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != set(keys):
        raise DamagedRecord(f"its {name} does not have the fields {', '.join(keys)}")
    return data


def _number(value: Any, name: str, minimum: float, maximum: float = math.inf) -> float:
    real = not isinstance(value, bool) and isinstance(value, numbers.Real)
    try:
        valid = real and math.isfinite(value) and minimum <= value <= maximum
    except OverflowError:  # an integer past float's range
        valid = False
    if not valid:
        raise DamagedRecord(f"its {name} is {value!r}, not a number in [{minimum}, {maximum}]")
    return float(value)


def _whole(value: Any, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise DamagedRecord(f"its {name} is {value!r}, not a whole number in {minimum}..{maximum}")
    return value
