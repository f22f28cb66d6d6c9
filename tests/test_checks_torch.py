"""The exercise checks of lessons 6 and 8 pass a right answer and name what is wrong."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from forcemlp import checks_torch


class ArticleNet(nn.Module):
    def __init__(self, hidden: int = 16, log_softmax: bool = True) -> None:
        super().__init__()
        self.hidden, self.output = nn.Linear(784, hidden), nn.Linear(hidden, 10)
        self.log_softmax = log_softmax

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        scores = self.output(F.relu(self.hidden(images.flatten(1))))
        return F.log_softmax(scores, dim=1) if self.log_softmax else scores


def train_one_epoch(model, loader, optimizer):
    for images, labels in loader:
        optimizer.zero_grad()
        F.nll_loss(model(images), labels).backward()
        optimizer.step()


def lines_marked_wrong(report) -> list[str]:
    return [line for line in report.lines if line.startswith("WRONG")]


def test_the_articles_network_and_loop_pass():
    report = checks_torch.check_network(ArticleNet, train_one_epoch)
    assert report.passed, report
    low, high = min(report.reference_losses), max(report.reference_losses)
    assert low <= high < 2.3  # one epoch learns: below guessing, ln 10
    assert len(report.lines) == 5


def test_scores_instead_of_log_probabilities_are_named():
    report = checks_torch.check_network(lambda: ArticleNet(log_softmax=False), train_one_epoch)
    wrong = lines_marked_wrong(report)
    assert any("not log-probabilities" in line for line in wrong)
    assert any("validation loss" in line for line in wrong)
    assert not report.passed


def test_a_wrong_size_and_a_loop_that_never_steps_are_named():
    report = checks_torch.check_network(lambda: ArticleNet(hidden=32), lambda *args: None)
    wrong = lines_marked_wrong(report)
    assert any("25,450 parameters" in line for line in wrong)
    assert any("call optimizer.step()" in line for line in wrong)


def test_a_model_of_the_wrong_shape_stops_before_training():
    report = checks_torch.check_network(lambda: nn.Linear(28, 10), train_one_epoch)
    assert not report.passed and "(20, 1, 28, 10)" in report.lines[0]
    assert report.loss is None


def test_a_model_that_cannot_take_the_batch_stops_with_one_line():
    report = checks_torch.check_network(lambda: nn.Linear(10, 10), train_one_epoch)
    assert not report.passed and len(report.lines) == 1


def fastai_learner(loss_func):
    learner = pytest.importorskip("fastai.learner")
    from fastai.metrics import accuracy

    def make_learner(dls):
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
        return learner.Learner(dls, model, loss_func=loss_func, metrics=accuracy)

    return make_learner


def test_a_fastai_learner_is_checked():
    from fastai.losses import CrossEntropyLossFlat

    good = checks_torch.check_learner(fastai_learner(CrossEntropyLossFlat()))
    assert good.passed, good
    wrong = checks_torch.check_learner(fastai_learner(nn.NLLLoss()))
    assert any("CrossEntropyLossFlat" in line for line in lines_marked_wrong(wrong))
