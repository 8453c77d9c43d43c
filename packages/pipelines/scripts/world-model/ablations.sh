#!/usr/bin/env bash
# MIGE's ablations at our scale (the paper's Tables 1-3 and wo_VAE feature): the same budget as
# the default model, trained on one data mix each, two runs at a time. Resumable like run-all.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."            # packages/pipelines
RUNS=${RUNS:-../../runs/world}
STEPS=${STEPS:-4500}
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
TRAIN=(--world 10000 --world-size 64 --world-seed 3000 --steps "$STEPS" --batch-size 8 --lr 5e-4 --warmup 300
       --lr-schedule cosine --min-lr-ratio 0.05 --max-grad-norm 1 --ema 0.999 --ema-warmup
       --checkpoint-every 100 --keep-last 2 --log jsonl --log-every 20 --resume)
run() { # name init ratios: trains, then the model folder from the EMA weights
  node dist/cli.js train --model "$RUNS/$2" --out "$RUNS/ablation-$1" --ratios "$3" "${TRAIN[@]}" >> "$RUNS/ablation-$1.log" 2>&1
  npx tsx scripts/world-model/checkpoint-to-model.ts --init "$RUNS/$2" --run "$RUNS/ablation-$1" --ema 1 --out "$RUNS/ablation-$1/model"
}
[ -d "$RUNS/init-noffm" ] || npx tsx scripts/world-model/assemble.ts --vae "$RUNS/vae" --vit "$RUNS/vit" --out "$RUNS/init-noffm" --fusion none --prediction v
# JOBS=1 runs them one after another (when the other core trains the default model).
if [ "${JOBS:-2}" = 1 ]; then
  run edit-only init edit=1
  run subject-only init subject=1
  run compose-only init add=1,replace=1
  run subject-edit init subject=1,edit=1
else
  run edit-only init edit=1 &
  run subject-only init subject=1 &
  wait
  run compose-only init add=1,replace=1 &
  run subject-edit init subject=1,edit=1 &
  wait
fi
run no-ffm init-noffm subject=1,edit=1,add=0.5,replace=0.5

# The table (RESULTS.md): every model against copy-source, chance and the VAE's ceiling.
# The shipped default model (../model-world) beside the joint run's equal-budget EMA.
M=default=../model-world,joint@4500=$RUNS/joint/model
for a in edit-only subject-only compose-only subject-edit no-ffm; do M=$M,$a=$RUNS/ablation-$a/model; done
npx tsx scripts/world-model/evaluate.ts --models "$M" --chance-for default --vae-ceiling "$RUNS/init" --count 40 --out ../../results/world-benchmark
npx tsx scripts/world-model/results-table.ts --json ../../results/world-benchmark.json --md ../../RESULTS.md
