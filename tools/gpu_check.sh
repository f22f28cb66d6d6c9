#!/usr/bin/env bash
# One short check of the CUDA paths: one epoch of PyTorch and one of Keras on the GPU, each
# ending in the CLI's JSON line. Usage: tools/gpu_check.sh [python]   (FORCEMLP_DATA must be set)
# Keras runs on whatever KERAS_BACKEND names: tensorflow needs `pip install "tensorflow[and-cuda]"`;
# jax or torch use that framework's CUDA build.
set -u
python=${1:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$python -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
for args in \
  "--framework torch --epochs 1" \
  "--framework torch --epochs 1 --hidden 512 256 --batch-size 128" \
  "--framework keras --epochs 1 --hidden 784 16 --batch-size 32"; do
  echo "== train $args --device cuda (KERAS_BACKEND=${KERAS_BACKEND:-tensorflow})"
  $python -m forcemlp train $args --device cuda --quiet --json || echo "FAILED: $args"
done
echo "== --device cuda refused without a GPU:"
CUDA_VISIBLE_DEVICES= $python -m forcemlp train --framework torch --epochs 1 --device cuda --quiet
echo "exit $?"
