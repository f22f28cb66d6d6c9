"""forcemlp.fastai_mlp: fastai's DataLoaders over our arrays, its Learner on our model, our records.

Small slices of real MNIST keep each fit to a second or two.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy as np
import pytest
import torch
from fastai.callback.core import Callback
from fastai.interpret import ClassificationInterpretation
from fastai.torch_core import set_seed

from forcemlp import cli, fastai_mlp, runner, torch_mlp
from forcemlp.config import TrainConfig, learning_rate_at
from forcemlp.errors import ForceMLPError

TRAIN_SIZE = 3000


@pytest.fixture(scope="module")
def small_splits(mnist_splits):
    return dataclasses.replace(mnist_splits, train=mnist_splits.train.head(TRAIN_SIZE))


def fresh_learner(splits, batch_size=64, seed=0, optimizer="adam"):
    set_seed(seed)
    dls = fastai_mlp.dataloaders(splits, batch_size, device="cpu")
    return fastai_mlp.learner(dls, torch_mlp.model_for(TrainConfig(seed=seed)), optimizer)


@pytest.fixture(scope="module")
def trained(small_splits):
    """The article's 784-16-10 after three one-cycle epochs on 3,000 images."""
    learn = fresh_learner(small_splits)
    history = fastai_mlp.fit(learn, epochs=3, learning_rate=1e-2, lr_schedule="one_cycle")
    return learn, history


def test_batches_are_our_images_scaled_and_labelled(small_splits):
    dls = fastai_mlp.dataloaders(small_splits, batch_size=100, device="cpu")
    images, labels = dls.valid.one_batch()
    assert type(images).__name__ == "TensorImageBW" and images.shape == (100, 1, 28, 28)
    expected = small_splits.val.features[:100].reshape(100, 1, 28, 28)
    assert torch.equal(images.cpu(), torch.from_numpy(expected))  # the same float32 as /255
    assert labels.tolist() == small_splits.val.labels[:100].tolist()
    assert dls.vocab == list(small_splits.class_names)


def test_every_training_image_comes_once_per_epoch_shuffled(small_splits):
    dls = fastai_mlp.dataloaders(small_splits, batch_size=128, device="cpu")
    batches = list(dls.train)
    assert len(batches) == math.ceil(TRAIN_SIZE / 128) and len(batches[-1][1]) == TRAIN_SIZE % 128
    labels = torch.cat([batch[1] for batch in batches]).numpy()
    assert sorted(labels.tolist()) == sorted(small_splits.train.labels.tolist())
    assert labels.tolist() != small_splits.train.labels.tolist()
    pixel_sums = torch.cat([batch[0].sum(dim=(1, 2, 3)) for batch in batches]).numpy()
    expected = small_splits.train.features.sum(axis=1)
    np.testing.assert_allclose(np.sort(pixel_sums), np.sort(expected), rtol=1e-5)


def test_the_test_loader_holds_the_test_images_in_order(small_splits):
    dls = fastai_mlp.dataloaders(small_splits, batch_size=1000, device="cpu")
    labels = torch.cat([batch[1] for batch in dls[fastai_mlp.TEST_LOADER]]).numpy()
    assert labels.tolist() == small_splits.test.labels.tolist()


def test_nll_loss_flat_turns_log_probabilities_into_probabilities_and_classes():
    loss = fastai_mlp.NLLLossFlat()
    log_probabilities = torch.log_softmax(torch.tensor([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]]), 1)
    labels = torch.tensor([0, 2])
    expected = -(log_probabilities[0, 0] + log_probabilities[1, 2]) / 2
    assert torch.isclose(loss(log_probabilities, labels), expected)
    assert torch.allclose(loss.activation(log_probabilities).sum(1), torch.ones(2))
    assert loss.decodes(log_probabilities).tolist() == [0, 1]


def test_history_records_per_sample_averages_and_keeps_the_best_weights(trained, small_splits):
    learn, history = trained
    assert [metrics.epoch for metrics in history.epochs] == [1, 2, 3]
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    best = history.epochs[history.best_epoch - 1]
    assert best.val_accuracy == max(history.column("val_accuracy"))
    # The model holds the best epoch's weights: judged again, it scores what was recorded.
    again = fastai_mlp.evaluate(learn, loader=1)
    assert again.accuracy == pytest.approx(best.val_accuracy, abs=1e-12)
    assert again.loss == pytest.approx(best.val_loss, rel=1e-5)
    assert all(metrics.seconds > 0 for metrics in history.epochs)


def test_the_last_epoch_training_numbers_are_per_sample_means(small_splits):
    """One epoch at a constant rate, with a batch size that leaves a short last batch."""
    learn = fresh_learner(small_splits, batch_size=700)
    seen_losses, seen_right, seen_count = [], [], []

    def keep(batch_loss, predictions, labels):
        seen_losses.append(float(batch_loss) * len(labels))
        seen_right.append(int((predictions.argmax(-1) == labels).sum()))
        seen_count.append(len(labels))

    class Spy(Callback):
        order = 70

        def after_batch(self):
            if self.training:
                keep(self.learn.loss.detach(), self.learn.pred, self.learn.yb[0])

    learn.add_cb(Spy())
    history = fastai_mlp.fit(learn, epochs=1, learning_rate=1e-3)
    assert seen_count == [700, 700, 700, 700, 200]
    assert history.epochs[0].train_loss == pytest.approx(sum(seen_losses) / TRAIN_SIZE)
    assert history.epochs[0].train_accuracy == pytest.approx(sum(seen_right) / TRAIN_SIZE)


def test_same_seed_same_run_other_seed_other_run(small_splits):
    def val_losses(seed):
        learn = fresh_learner(small_splits, batch_size=256, seed=seed)
        return fastai_mlp.fit(learn, epochs=1, learning_rate=1e-2).column("val_loss")

    assert val_losses(0) == val_losses(0)
    assert val_losses(0) != val_losses(1)


def test_schedules_set_the_rate_of_every_step(small_splits):
    learn = fresh_learner(small_splits, batch_size=500)
    fastai_mlp.fit(learn, epochs=2, learning_rate=1e-2, lr_schedule="cosine")
    steps = 2 * math.ceil(TRAIN_SIZE / 500)
    expected = [learning_rate_at(1e-2, "cosine", step, steps) for step in range(steps)]
    np.testing.assert_allclose(learn.recorder.lrs, expected, rtol=1e-9)
    fastai_mlp.fit(learn, epochs=2, learning_rate=1e-2, lr_schedule="one_cycle")
    rates = np.asarray(learn.recorder.lrs)
    assert rates[0] == pytest.approx(1e-2 / 25) and rates.max() == pytest.approx(1e-2, rel=1e-3)
    peak = int(rates.argmax())
    assert peak == len(rates) // 4  # up for the first quarter of the steps, then down
    assert (np.diff(rates[:peak + 1]) > 0).all() and (np.diff(rates[peak:]) < 0).all()
    assert rates[-1] < rates[0]


def test_one_cycle_trains_the_article_model(trained):
    learn, history = trained
    assert history.epochs[-1].val_accuracy > 0.85  # 3 epochs on 3,000 images
    test = fastai_mlp.evaluate(learn)
    assert len(test.labels) == 8000 and test.accuracy > 0.85


def test_interpretation_confusion_matches_our_evaluation(trained):
    learn, _ = trained
    with learn.no_bar():
        interpretation = ClassificationInterpretation.from_learner(
            learn, ds_idx=fastai_mlp.TEST_LOADER
        )
        confusion = interpretation.confusion_matrix()
        losses, indices = interpretation.top_losses(5)
    ours = fastai_mlp.evaluate(learn)
    assert np.array_equal(confusion, ours.confusion)
    assert (np.diff(losses.numpy()) <= 0).all()
    assert all(ours.predictions[i] != ours.labels[i] for i in indices.tolist())


def test_lr_find_runs_offline_and_leaves_the_weights(small_splits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    learn = fresh_learner(small_splits)
    before = [parameter.detach().clone() for parameter in learn.model.parameters()]
    with learn.no_bar(), learn.no_logging():
        suggestion = learn.lr_find(num_it=30, show_plot=False)
    assert 1e-6 < suggestion.valley < 1
    assert all(torch.equal(a, b) for a, b in zip(before, learn.model.parameters()))
    assert list(tmp_path.iterdir()) == []  # lr_find parks its weights in fastai_mlp.SCRATCH


def test_unsupported_choices_and_divergence_are_one_line_errors(small_splits):
    with pytest.raises(ForceMLPError, match="fastai supports optimizer .* not 'nesterov'"):
        fastai_mlp.learner(None, None, "nesterov")
    learn = fresh_learner(small_splits)
    with pytest.raises(ForceMLPError, match="unknown learning-rate schedule 'linear'"):
        fastai_mlp.fit(learn, epochs=1, learning_rate=1e-3, lr_schedule="linear")
    with pytest.raises(ForceMLPError, match="^training diverged: the loss (reached|became)"):
        fastai_mlp.fit(learn, epochs=1, learning_rate=1e30, lr_schedule="constant")
    with pytest.raises(ForceMLPError, match="the loss became inf in epoch 1.*it was 1e\\+39"):
        fastai_mlp.fit(fresh_learner(small_splits), epochs=1, learning_rate=1e39,
                       lr_schedule="constant")
    by_hand = fresh_learner(small_splits)
    by_hand.fit(1, 1e30)  # a lesson's own call: the divergence cancels the fit quietly...
    with pytest.raises(ForceMLPError, match="^training diverged"):
        fastai_mlp.run_result(TrainConfig(framework="fastai"), by_hand, TRAIN_SIZE)  # ...until here


def test_the_cli_trains_with_fastai_and_prints_the_shared_keys(capsys):
    code = cli.main(["train", "--framework", "fastai", "--train-size", "2000", "--epochs", "1",
                     "--batch-size", "128", "--lr", "1e-2", "--quiet", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    quick = runner.run(TrainConfig(framework="torch", train_size=100, epochs=1), cache=False)
    assert set(quick.summary()) == set(summary)
    assert summary["framework"] == "fastai" and summary["test_count"] == 8000
    assert summary["test_accuracy"] > 0.7  # one epoch on 2,000 images; chance is 0.1


def test_the_cli_refuses_what_fastai_does_not_offer(capsys):
    assert cli.main(["train", "--framework", "fastai", "--optimizer", "adagrad",
                     "--train-size", "100"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "not 'adagrad'" in error


def test_nothing_was_written_into_the_working_folder():
    assert not (os.path.exists("models") and os.listdir("models"))


def test_a_lesson_fitting_by_hand_gets_what_forcemlp_train_gets(small_splits):
    """The lesson calls learn.fit_one_cycle itself and files the result under the recipe's
    config: that is honest only if train_run computes exactly the same run."""
    config = TrainConfig(framework="fastai", epochs=2, batch_size=256, learning_rate=1e-2,
                         train_size=TRAIN_SIZE)
    by_hand = fastai_mlp.seeded_learner(small_splits, config)
    by_hand.lr_find(num_it=20, show_plot=False)  # the lesson looks first; it must not matter
    by_hand = fastai_mlp.seeded_learner(small_splits, config)
    by_hand.fit(config.epochs, config.learning_rate)
    lesson = fastai_mlp.run_result(config, by_hand, TRAIN_SIZE)
    command = fastai_mlp.train_run(config, small_splits)
    for mine, theirs in zip(lesson.history.epochs, command.history.epochs):
        assert (mine.train_loss, mine.val_loss, mine.val_accuracy) == (
            theirs.train_loss, theirs.val_loss, theirs.val_accuracy)
    assert lesson.test.predictions.tolist() == command.test.predictions.tolist()


def test_one_cycle_is_fastai_only():
    for framework in ("torch", "keras", "numpy", "tensorflow"):
        with pytest.raises(ForceMLPError, match="not 'one_cycle': choose framework fastai"):
            runner.run(TrainConfig(framework=framework, lr_schedule="one_cycle"), cache=False)
    with pytest.raises(ForceMLPError, match="unknown learning-rate schedule 'one_cycle'"):
        learning_rate_at(1e-3, "one_cycle", 0, 10)
