"""The PyTorch models: the seed article's two styles, any MLP in either style, and their use.

    model = build_mlp((128, 64), "relu", dropout=0.2)            # nn.Sequential style
    model = build_mlp((128, 64), "relu", style="functional")     # F.relu in forward()
    evaluate(model, splits.test).accuracy

Both styles build their ``nn.Linear`` layers in the same order, so one seed gives both the
same initial weights and they compute the same function.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import (
    DEVICES,
    INPUT_SIZE,
    NUM_CLASSES,
    OPTIMIZERS,
    STYLES,
    TrainConfig,
    check_choice,
    check_dropout,
    check_hidden_sizes,
    pick,
)
from ..data import Split, to_features
from ..errors import ForceMLPError
from ..history import Evaluation, evaluate_log_probabilities
from ..weights import LayerWeights, layer_weights

EVAL_CHUNK = 10_000  # images per forward pass when evaluating, to bound memory

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
}
#: The ``torch.nn.functional`` twin of each module above (same defaults), for the functional style.
ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
}


class SequentialMLP(nn.Module):
    """An ``nn.Sequential`` of layers inside a Module that flattens images to 784 features."""

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images.flatten(1))


class SeedSequential(SequentialMLP):
    """The seed's "Sequential" model: 784-16-10, ReLU, log-probabilities (12,730 parameters)."""

    def __init__(self) -> None:
        super().__init__(nn.Sequential(
            nn.Linear(INPUT_SIZE, 16),
            nn.ReLU(),
            nn.Linear(16, NUM_CLASSES),
            nn.LogSoftmax(dim=1),
        ))


class SeedFunctional(nn.Module):
    """The seed's "functional" model: the same 784-16-10 net, written with F.relu/F.log_softmax.

    Built with the same seed it starts from the same weights as ``SeedSequential``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(INPUT_SIZE, 16)
        self.output = nn.Linear(16, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(self.hidden(images.flatten(1)))
        return F.log_softmax(self.output(hidden), dim=1)


class FunctionalMLP(nn.Module):
    """Any MLP in the functional style: the module owns only its Linear layers; ``forward``
    applies the activation, dropout and log-softmax itself."""

    def __init__(self, hidden_sizes: tuple[int, ...], activation: str, dropout: float) -> None:
        super().__init__()
        sizes = [INPUT_SIZE, *hidden_sizes, NUM_CLASSES]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.activation = ACTIVATION_FUNCTIONS[activation]
        self.dropout = dropout

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        hidden = images.flatten(1)
        for linear in self.linears[:-1]:
            hidden = self.activation(linear(hidden))
            if self.dropout > 0:
                hidden = F.dropout(hidden, self.dropout, training=self.training)
        return F.log_softmax(self.linears[-1](hidden), dim=1)


def build_mlp(
    hidden_sizes: tuple[int, ...] | list[int],
    activation: str = "relu",
    dropout: float = 0.0,
    style: str = "sequential",
) -> nn.Module:
    """Any MLP 784-hidden...-10 ending in log-softmax; dropout (if > 0) after each activation.

    ``style="sequential"`` stacks modules in an ``nn.Sequential`` (a :class:`SequentialMLP`);
    ``"functional"`` writes the same network with ``torch.nn.functional`` calls.
    """
    pick("activation", activation, ACTIVATION_MODULES)
    check_choice("style", style, STYLES)
    hidden_sizes = check_hidden_sizes(hidden_sizes)
    dropout = check_dropout(dropout)
    if style == "functional":
        return FunctionalMLP(hidden_sizes, activation, dropout)
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip([INPUT_SIZE, *hidden_sizes], hidden_sizes):
        layers += [nn.Linear(fan_in, fan_out), ACTIVATION_MODULES[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(hidden_sizes[-1], NUM_CLASSES), nn.LogSoftmax(dim=1)]
    return SequentialMLP(nn.Sequential(*layers))


def model_for(config: TrainConfig) -> nn.Module:
    """The model a config asks for, in its style, initialised from ``config.seed``.

    The seed's own shape (one hidden layer of 16, ReLU, no dropout) gives the seed's classes;
    any other shape comes from ``build_mlp``.
    """
    torch.manual_seed(config.seed)
    if config.hidden_sizes == (16,) and config.activation == "relu" and config.dropout == 0:
        return SeedSequential() if config.style == "sequential" else SeedFunctional()
    return build_mlp(config.hidden_sizes, config.activation, config.dropout, config.style)


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when PyTorch sees a GPU, else the CPU; ``cpu``/``cuda`` force one."""
    check_choice("device", name, DEVICES)
    cuda_available = torch.cuda.is_available()
    if name == "cuda" and not cuda_available:
        raise ForceMLPError(
            "--device cuda asked for, but PyTorch sees no CUDA GPU: use --device cpu (or auto),"
            " or install a CUDA build of torch on a machine with an NVIDIA GPU."
        )
    if name == "auto":
        name = "cuda" if cuda_available else "cpu"
    return torch.device(name)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one CPU thread inside the block, as it was afterwards.

    The MLPs here multiply small matrices, where handing work between threads costs more than
    it saves; on a machine busy with other work a second thread waits for a free core at every
    operation (measured: 40x slower per step). Results can differ in the last bits between
    thread counts, so a loop written to match ``train`` bit for bit runs on one thread too.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def make_optimizer(
    name: str, parameters: Iterable[torch.Tensor], learning_rate: float
) -> torch.optim.Optimizer:
    """The torch.optim optimizer behind each name the CLI accepts (momentum 0.9 where used),
    built with PyTorch's defaults, as a reader's own loop would build it."""
    check_choice("optimizer", name, OPTIMIZERS)
    parameters = list(parameters)
    factories: dict[str, Callable[[], torch.optim.Optimizer]] = {
        "adam": lambda: torch.optim.Adam(parameters, lr=learning_rate),
        "sgd": lambda: torch.optim.SGD(parameters, lr=learning_rate),
        "momentum": lambda: torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9),
        "nesterov": lambda: torch.optim.SGD(
            parameters, lr=learning_rate, momentum=0.9, nesterov=True
        ),
        "rmsprop": lambda: torch.optim.RMSprop(parameters, lr=learning_rate),
        "adagrad": lambda: torch.optim.Adagrad(parameters, lr=learning_rate),
        "adadelta": lambda: torch.optim.Adadelta(parameters, lr=learning_rate),
    }
    return factories[name]()


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def log_probabilities_of(model: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """The model's log-probabilities in eval mode, in chunks so 60,000 images fit anywhere."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(chunk) for chunk in features.split(EVAL_CHUNK)])


def predict_log_probabilities(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 log-probabilities (N, 10), on the model's device."""
    features = torch.from_numpy(to_features(images)).to(_model_device(model))
    return log_probabilities_of(model, features).cpu().numpy()


def evaluate(
    model: nn.Module, split: Split, device: str | torch.device | None = None
) -> Evaluation:
    """Loss, accuracy, predictions and confusion matrix of ``model`` on one labelled set."""
    if device is not None:
        model.to(select_device(device) if isinstance(device, str) else device)
    return evaluate_log_probabilities(predict_log_probabilities(model, split.images), split.labels)


def trained_weights(model: nn.Module) -> tuple[LayerWeights, ...]:
    """The model's Linear layers, input first, as framework-neutral float32 (out, in) weights."""
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    return layer_weights(
        (linear.weight.detach().cpu().numpy(), linear.bias.detach().cpu().numpy())
        for linear in linears
    )
