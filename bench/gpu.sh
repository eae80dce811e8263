#!/usr/bin/env bash
# Training images/s of the catdog CNN at 64x64 RGB: CPU and GPU, float32, mixed_float16 and mixed_bfloat16.
# Each row is a fresh process (bench/gpu_throughput.py). On a machine without a GPU the GPU rows
# say "no GPU". For the GPU rows, install the GPU extra first: pip install -e '.[gpu]' (README).
#   bench/gpu.sh [extra arguments for gpu_throughput.py, e.g. --steps 100 --batch 128]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
for device in cpu gpu; do
  for policy in float32 mixed_float16 mixed_bfloat16; do
    "$PYTHON" bench/gpu_throughput.py --device "$device" --policy "$policy" "$@"
  done
done
