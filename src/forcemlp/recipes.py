"""The runs the book trains, named once, so every lesson and the recap ask for the same thing.

    from forcemlp.recipes import SEED_KERAS
    from forcemlp.runner import run
    result = run(SEED_KERAS)      # trained once per build, then read from the run cache
"""
from __future__ import annotations

from dataclasses import replace

from .config import TrainConfig

#: The article's PyTorch model: 784-16-10, ReLU, Adam 1e-3, batch 20, five epochs.
SEED_TORCH = TrainConfig(framework="torch", hidden_sizes=(16,), batch_size=20, epochs=5)
#: The same network written in the "functional" style (F.relu, F.log_softmax).
SEED_TORCH_FUNCTIONAL = replace(SEED_TORCH, style="functional")
#: The article's Keras model: 784-784-16-10, Adam 1e-3, batch 32, five epochs.
SEED_KERAS = TrainConfig(framework="keras", hidden_sizes=(784, 16), batch_size=32, epochs=5)
#: The PyTorch seed model's network trained by hand with tf.GradientTape, batch 32.
SEED_TENSORFLOW = TrainConfig(framework="tensorflow", hidden_sizes=(16,), batch_size=32, epochs=5)
#: The PyTorch seed model's network trained by fastai's Learner with one-cycle (lesson 8):
#: batch 256 because fastai's per-batch overhead is high on a 2-core CPU.
FASTAI_ONE_CYCLE = TrainConfig(
    framework="fastai", hidden_sizes=(16,), batch_size=256, epochs=5, learning_rate=1e-2,
    lr_schedule="one_cycle",
)
#: The best MLP of lesson 9: wide, two layers, dropout, a cosine-shrinking learning rate. Two
#: layers of 256, not 512: its 269,322 weights travel to lesson 6's draw-a-digit widget as
#: float16 within the page budget (512-512 would need 1.8 MB) and it scores as well.
BEST_MLP = TrainConfig(
    framework="torch", hidden_sizes=(256, 256), dropout=0.2, batch_size=128, epochs=15,
    learning_rate=2e-3, lr_schedule="cosine",
)
