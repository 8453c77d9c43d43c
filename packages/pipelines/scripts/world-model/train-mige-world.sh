#!/usr/bin/env bash
# mige-world from scratch, as one command (issue 45's recipe). Resumable: re-running it continues
# every stage from its last checkpoint and skips the stages that are done. Run from the repository
# root after `npx -y pnpm@10 install && npx -y pnpm@10 build`:
#
#   bash packages/pipelines/scripts/world-model/train-mige-world.sh
#
# Environment:
#   RUNS         where everything goes (default runs/mige-world, git-ignored)
#   STEPS        joint training steps (default 60000)
#   THREADS      ONNX Runtime threads for joint training (default 1)
#   FROZEN_FROM  a model folder whose frozen VAE and ViT to reuse instead of stages 1-2 (about 2 h
#                on one core): they are what stages 1-2 made for that model, e.g. the shipped
#                default model, FROZEN_FROM=packages/model-world
#
# Each stage appends "stage start end seconds" to $RUNS/times.tsv: the recipe's machine time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
# RUNS and FROZEN_FROM are taken relative to where the command is run, before moving to the package.
RUNS=$(mkdir -p "${RUNS:-$ROOT/runs/mige-world}" && cd "${RUNS:-$ROOT/runs/mige-world}" && pwd)
[ -z "${FROZEN_FROM:-}" ] || FROZEN_FROM=$(cd "$FROZEN_FROM" && pwd)
cd "$ROOT/packages/pipelines"
STEPS=${STEPS:-60000}
THREADS=${THREADS:-1}
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
W=scripts/world-model

timed() { # name command...: runs it and records its wall time
  local name=$1 t0
  shift
  t0=$(date +%s)
  "$@"
  printf '%s\t%s\t%s\t%s\n' "$name" "$t0" "$(date +%s)" "$(( $(date +%s) - t0 ))" >> "$RUNS/times.tsv"
}

# Stages 1-2 (unchanged since v1): the VAE (32 px crops, then whole 64 px images) and the ViT's
# pre-training on the world's annotations; both stay frozen from here on.
if [ ! -e "$RUNS/init/config.json" ]; then
  if [ -n "${FROZEN_FROM:-}" ]; then
    timed assemble npx tsx $W/assemble.ts --frozen-from "$FROZEN_FROM" --out "$RUNS/init" --prediction v
  else
    timed vae bash -c "npx tsx $W/train-vae.ts --out '$RUNS/vae' --steps 5000 --lr 1e-3 && npx tsx $W/train-vae.ts --out '$RUNS/vae' --steps 5200 --crop 64" >> "$RUNS/vae.log" 2>&1
    timed vit npx tsx $W/train-vit.ts --out "$RUNS/vit" --steps 1500 >> "$RUNS/vit.log" 2>&1
    timed assemble npx tsx $W/assemble.ts --vae "$RUNS/vae" --vit "$RUNS/vit" --out "$RUNS/init" --prediction v
  fi
fi

# Stage 2b: the instruction encoder (Q-Former, t5_proj, T5) learns to describe the target scene
# from an instruction and its images, so that y binds the words to the objects (train-encoder.ts).
[ -e "$RUNS/encoder/model/config.json" ] ||
  timed encoder npx tsx $W/train-encoder.ts --model "$RUNS/init" --out "$RUNS/encoder" --steps 4000 >> "$RUNS/encoder.log" 2>&1

# Stage 3: joint training of everything but the ViT and the VAE, on the ONNX Runtime engine, on
# 1,000,000 fresh world examples (each drawn about once), one cosine from lr 5e-4. The mix leans on
# the tasks v1 failed: subject 1 : edit 2.5 : add 1.25 : replace 1.25 (MIGE's is 1 : 1 : 0.5 : 0.5),
# and within the edits add, move and resize twice as often, background half as often.
JOINT=(--world 1000000 --world-size 64 --world-seed 40000 --seed 45 --batch-size 8 --lr 5e-4 --warmup 300
       --lr-schedule cosine --min-lr-ratio 0.05 --max-grad-norm 1 --ema 0.999 --ema-warmup
       --ratios subject=1,edit=2.5,add=1.25,replace=1.25 --world-tasks add=2,move=2,resize=2,background=0.5
       --engine onnx --threads "$THREADS"
       --checkpoint-every 250 --keep-last 2 --log jsonl --log-every 50 --resume)
timed joint node dist/cli.js train --model "$RUNS/encoder/model" --out "$RUNS/joint" --steps "$STEPS" "${JOINT[@]}" >> "$RUNS/joint.log" 2>&1

# The model folder: the EMA weights, with the sampling defaults (RUNS.md says how they were chosen).
SAMPLING='{"generate":{"sampler":{"type":"dpm-solver","maxTimestep":549},"steps":20,"scales":{"y":2}},"edit":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":3,"s":1.5}},"compose":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":1.5,"s":1.5}}}'
timed model npx tsx $W/checkpoint-to-model.ts --init "$RUNS/encoder/model" --run "$RUNS/joint" --ema 1 --sampling "$SAMPLING" --out "$RUNS/model"
echo "mige-world: $RUNS/model (stage times in $RUNS/times.tsv)"
