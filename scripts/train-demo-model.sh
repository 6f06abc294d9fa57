#!/usr/bin/env bash
# Trains the small SASRec model the demo page ships with (demo/games-sasrec.safetensors) on the
# bundled Games data. Deterministic (fixed seed, one thread). Run by hand; `npm ci` never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir="$(mktemp -d)"
trap 'rm -rf "$run_dir"' EXIT
node bin/seqrec.js train \
  --model sasrec \
  --dataset data/games/Video.txt.gz \
  --train_dir "$run_dir" \
  --hidden_units 16 \
  --num_blocks 2 \
  --num_heads 1 \
  --maxlen 50 \
  --num_epochs 3 \
  --batch_size 128 \
  --threads 1 \
  --eval_users 2000 \
  --seed 1
cp "$run_dir/sasrec.safetensors" demo/games-sasrec.safetensors
ls -l demo/games-sasrec.safetensors
