"""forcemlp: the multi-layer perceptron on MNIST, in PyTorch, Keras and NumPy.

Importing the package is cheap: torch and TensorFlow load only inside the module that trains
with them (``forcemlp.torch_mlp``, ``forcemlp.keras_mlp``), in an order that cannot crash.
"""
from .config import TrainConfig
from .errors import ForceMLPError

__version__ = "0.2.0"  # the one place; pyproject.toml and the notebooks' install cell read it
__all__ = ["ForceMLPError", "TrainConfig", "__version__"]
