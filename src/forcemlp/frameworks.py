"""Import PyTorch, TensorFlow and Keras in the one order that does not crash, and pick devices.

With TensorFlow loaded first, a later ``import torchvision`` (or ``torch._dynamo``, or
``triton``) kills the process with a segmentation fault: the two ship clashing native
libraries, and whichever loads first wins. Loading torch's side first is safe both ways, so
every forcemlp module that needs TensorFlow or Keras imports it through this module, which
loads torch, torchvision and ``torch._dynamo`` first whenever they are installed.
"""
from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from .config import DEVICES, check_choice
from .errors import ForceMLPError

GPU_HINT = "or 'tensorflow[and-cuda]' for a GPU"
INSTALL_TENSORFLOW = f"pip install tensorflow-cpu ({GPU_HINT})"
INSTALL_KERAS = f"pip install keras tensorflow-cpu ({GPU_HINT})"
INSTALL_TORCH = "pip install torch torchvision"


def import_torch() -> ModuleType:
    """torch, with torchvision and ``torch._dynamo`` loaded too, so TensorFlow may follow safely."""
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        raise ForceMLPError(f"PyTorch is not installed: {INSTALL_TORCH}.") from None
    try:
        importlib.import_module("torchvision")
    except ImportError:
        pass  # torchvision is optional; torch._dynamo below covers the crash on its own.
    importlib.import_module("torch._dynamo")
    return torch


def _prepare_tensorflow_import() -> None:
    """Load torch's side first (if installed) and set Keras' and TensorFlow's environment."""
    try:
        import_torch()
    except ForceMLPError:
        pass  # Without torch there is nothing to clash with.
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _not_a_retracing_warning(record: logging.LogRecord) -> bool:
    return "triggered tf.function retracing" not in record.getMessage()


def _quiet_retracing_warnings() -> None:
    """Each new Keras model traces its own tf.functions, so a lesson training several models
    would print TensorFlow's warning about retracing in a loop: a false alarm here."""
    tensorflow_logger = logging.getLogger("tensorflow")
    if _not_a_retracing_warning not in tensorflow_logger.filters:
        tensorflow_logger.addFilter(_not_a_retracing_warning)


# What TensorFlow's native code prints while it loads, before it reads TF_CPP_MIN_LOG_LEVEL:
# absl's notice, info/warning lines (oneDNN, CPU features), and the CUDA builds' duplicate
# factory registrations. Dropped, so nothing precedes a command's own output or error line.
START_UP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
    r"|E\d{4} [\d:.]+ +\d+ \S+:\d+\] (Unable to register cu\w+ factory|computation placer)"
)


@contextmanager
def _start_up_noise_dropped() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file while TensorFlow loads, then pass on every
    line except the known start-up noise (the native code writes there, not to sys.stderr)."""
    sys.stderr.flush()
    try:
        original = os.fdopen(os.dup(2), "wb")
    except OSError:  # no stderr at all: nothing to keep clean
        yield
        return
    with original, tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(original.fileno(), 2)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True)
                    if not START_UP_NOISE.match(line.decode(errors="replace"))]
            if kept:
                original.write(b"".join(kept))


def import_tensorflow() -> ModuleType:
    """tensorflow, imported after torch (see the module docstring), or a clear install hint."""
    _prepare_tensorflow_import()
    try:
        with _start_up_noise_dropped():
            tensorflow = importlib.import_module("tensorflow")
    except ImportError:
        raise ForceMLPError(f"TensorFlow is not installed: {INSTALL_TENSORFLOW}.") from None
    _quiet_retracing_warnings()
    return tensorflow


def import_keras() -> ModuleType:
    """keras 3 on ``$KERAS_BACKEND`` (TensorFlow unless the user chose another backend)."""
    _prepare_tensorflow_import()
    try:
        with _start_up_noise_dropped():
            keras = importlib.import_module("keras")
    except ImportError as error:
        backend = os.environ["KERAS_BACKEND"]
        if backend == "tensorflow" and (error.name or "").split(".")[0] in {"tensorflow", "keras"}:
            raise ForceMLPError(
                f"Keras on TensorFlow is not installed: {INSTALL_KERAS}."
            ) from None
        raise ForceMLPError(
            f"Keras could not load its {backend!r} backend ({error}): install it, or set"
            " KERAS_BACKEND=tensorflow."
        ) from None
    _quiet_retracing_warnings()
    return keras


def _visible_gpu_count(backend: str) -> int:
    """How many GPUs the given Keras backend can use."""
    if backend == "tensorflow":
        return len(import_tensorflow().config.list_physical_devices("GPU"))
    if backend == "jax":
        jax = importlib.import_module("jax")
        return sum(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        return import_torch().cuda.device_count()
    return 0


def keras_device(name: str = "auto", backend: str | None = None) -> str:
    """The device string for ``keras.device(...)`` / ``tf.device(...)``: "gpu:0" or "cpu:0".

    "auto" takes the first GPU when ``backend`` (default: Keras' own) sees one, else the CPU;
    "cuda" insists on a GPU. Build the model inside the same scope as training: variables
    live where they are created.
    """
    check_choice("device", name, DEVICES)
    if name == "cpu":
        return "cpu:0"
    backend = backend or import_keras().backend.backend()
    if _visible_gpu_count(backend):
        return "gpu:0"
    if name == "cuda":
        install = f"a CUDA build of {backend}"
        if backend == "tensorflow":
            install = "pip install 'tensorflow[and-cuda]'"
        raise ForceMLPError(
            f"device 'cuda' asks for a GPU, but Keras' {backend} backend sees none: use device"
            f" 'cpu' or 'auto', or install {install}."
        )
    return "cpu:0"
