"""The seed article's PyTorch training loop, kept to show where its time goes (``forcemlp bench``).

The article fed its model through ``torchvision.datasets.MNIST`` with ``ToTensor``: a PIL image
made and converted per sample, every epoch, stacked by a ``DataLoader`` into batches of 20. Its
validation phase ran on the 2,000 validation images its ``SubsetRandomSampler`` (``val_sampler``)
held; the ``10000`` it printed was ``len(loader.dataset)``, the size of the underlying dataset,
not the number of images it evaluated. Its real mistakes were elsewhere: epoch averages
divided by batches × batch size (wrong whenever the last batch is short), a training loader
that was never shuffled, no ``torch.no_grad()`` in evaluation; and, in its test code, a loss
divided by 10,000 although 8,000 images were evaluated and a per-class loop that assumed every
batch was full. This loop keeps the per-sample pipeline and fixes the three training mistakes.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.std import tqdm  # not tqdm.auto: see train_seed_style

from ..data import Splits
from ..history import EpochMetrics, History
from ..training import diverged, divergence_limit
from .models import one_torch_thread, select_device
from .trainer import check_training_arguments


class SeedStyleMNIST(torch.utils.data.Dataset):
    """What ``torchvision.datasets.MNIST`` does per sample, over our arrays.

    torchvision's class wants its own folder layout (and writes there); this keeps its
    per-sample path: a PIL image from one uint8 array, then ``transform`` (ToTensor), one
    image at a time. That per-sample work is what makes the seed's loop slow.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable) -> None:
        self.images = images
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def seed_style_loaders(splits: Splits, batch_size: int = 20, seed: int = 0) -> dict:
    """The seed's DataLoaders, with its training loader shuffled: validation draws the 2,000
    validation images of the official 10,000 through a SubsetRandomSampler, as the article's
    ``val_sampler`` did.

    The training loader shuffles with its own generator seeded with ``seed``, so it visits the
    images in the order ``torch_mlp.train`` uses, epoch after epoch.
    """
    from torch.utils.data import DataLoader, SubsetRandomSampler
    from torchvision import transforms

    to_tensor = transforms.ToTensor()
    train_data = SeedStyleMNIST(splits.train.images, splits.train.labels, to_tensor)
    official_test = SeedStyleMNIST(
        np.concatenate([splits.val.images, splits.test.images]),
        np.concatenate([splits.val.labels, splits.test.labels]),
        to_tensor,
    )
    val_sampler = SubsetRandomSampler(
        range(len(splits.val)), generator=torch.Generator().manual_seed(seed)
    )
    return {
        "train": DataLoader(train_data, batch_size, shuffle=True, num_workers=0,
                            generator=torch.Generator().manual_seed(seed)),
        "val": DataLoader(official_test, batch_size, sampler=val_sampler, num_workers=0),
    }


def train_seed_style(
    model: nn.Module,
    splits: Splits,
    *,
    epochs: int,
    batch_size: int = 20,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> History:
    """The seed article's training loop, faithfully, with its three training mistakes fixed.

    Per epoch a train and a val phase over DataLoaders, ``NLLLoss`` and ``Adam``, running loss
    and correct counts, a deep copy of the best validation weights restored at the end.
    Fixed: averages divide by the samples seen (not batches x batch size), the training
    loader is shuffled, and the val phase computes no gradients.

    It runs torch on one CPU thread, as ``train`` does, so the benchmark compares
    pipelines rather than thread settings. The progress bar is ``tqdm.std``'s: ``tqdm.auto``'s
    calls ``iter()`` on the loader when it is created, which draws one more number from a
    seeded loader's generator every epoch and so changes its shuffling.
    """
    check_training_arguments(splits, epochs, batch_size, learning_rate, "adam")
    torch_device = select_device(device)
    with one_torch_thread():
        torch.manual_seed(seed)
        model.to(torch_device)
        loaders = seed_style_loaders(splits, batch_size, seed)
        criterion = nn.NLLLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        history = History(framework="torch-seed-style")
        best_accuracy, best_weights = -1.0, None
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            phase_results = {}
            for phase in ("train", "val"):
                model.train(phase == "train")
                running_loss, running_corrects, seen = 0.0, 0, 0
                batches = tqdm(loaders[phase], desc=f"epoch {epoch}/{epochs} {phase}",
                               disable=not progress, leave=False)
                for step, (images, labels) in enumerate(batches, start=1):
                    images, labels = images.to(torch_device), labels.to(torch_device)
                    optimizer.zero_grad()
                    with torch.set_grad_enabled(phase == "train"):
                        output = model(images)
                        loss = criterion(output, labels)
                        _, predictions = torch.max(output, 1)
                        if phase == "train":
                            loss.backward()
                            optimizer.step()
                    running_loss += loss.item() * images.size(0)
                    running_corrects += torch.sum(predictions == labels.data).item()
                    seen += images.size(0)
                    if not running_loss / seen <= divergence_limit():  # the shared rule; nan too
                        raise diverged(running_loss / seen, f"by epoch {epoch} step {step}",
                                       learning_rate)
                phase_results[phase] = (running_loss / seen, running_corrects / seen)
            (train_loss, train_accuracy), (val_loss, val_accuracy) = phase_results.values()
            history.append(EpochMetrics(epoch, train_loss, train_accuracy, val_loss, val_accuracy,
                                        time.perf_counter() - start))
            if progress:
                tqdm.write(f"epoch {epoch}/{epochs}: loss {train_loss:.4f} acc {train_accuracy:.4f}"
                           f" val_loss {val_loss:.4f} val_acc {val_accuracy:.4f}")
            if val_accuracy > best_accuracy:
                best_accuracy, history.best_epoch = val_accuracy, epoch
                best_weights = copy.deepcopy(model.state_dict())
        model.load_state_dict(best_weights)
        return history
