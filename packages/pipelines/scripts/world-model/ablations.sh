#!/usr/bin/env bash
# MIGE's ablations at our scale (the paper's Tables 1-3 and its wo_VAE feature): joint training
# against the same recipe on one data mix each, and without the FFM, all at one budget (STEPS, one
# cosine each) from the recipe's stage-2b init (train-mige-world.sh must have made it), one run
# after another. Resumable like the recipe. Run from the repository root:
#
#   STEPS=12000 bash packages/pipelines/scripts/world-model/ablations.sh
#
# RUNS must be the recipe's folder (default runs/mige-world); the ablations go to $RUNS/ablations.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
RUNS=$(cd "${RUNS:-$ROOT/runs/mige-world}" && pwd)
cd "$ROOT/packages/pipelines"
OUT=$RUNS/ablations
STEPS=${STEPS:-12000}
THREADS=${THREADS:-1}
mkdir -p "$OUT"
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
W=scripts/world-model
INIT=$RUNS/encoder/model
# The recipe's joint flags (train-mige-world.sh) at this budget; --ratios comes per run.
TRAIN=(--world 1000000 --world-size 64 --world-seed 40000 --seed 45 --batch-size 8 --lr 5e-4 --warmup 300
       --lr-schedule cosine --min-lr-ratio 0.05 --max-grad-norm 1 --ema 0.999 --ema-warmup
       --world-tasks add=2,move=2,resize=2,background=0.5 --engine onnx --threads "$THREADS"
       --checkpoint-every 250 --keep-last 2 --log jsonl --log-every 50 --resume --steps "$STEPS")
SAMPLING='{"generate":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":2}},"edit":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":2,"s":1.5}},"compose":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":2,"s":1.5}}}'
run() { # name init ratios: trains, then the model folder from the EMA weights
  [ -e "$OUT/$1/model/config.json" ] && return
  node dist/cli.js train --model "$2" --out "$OUT/$1" --ratios "$3" "${TRAIN[@]}" >> "$OUT/$1.log" 2>&1
  npx tsx $W/checkpoint-to-model.ts --init "$2" --run "$OUT/$1" --ema 1 --sampling "$SAMPLING" --out "$OUT/$1/model"
}
# wo_VAE: the same init without the FFM (its output starts at zero, so the pre-trained encoder is the same).
[ -e "$OUT/init-noffm/config.json" ] || npx tsx $W/assemble.ts --frozen-from "$INIT" --out "$OUT/init-noffm" --fusion none --prediction v --encoder-from "$INIT"
JOINT=subject=1,edit=2.5,add=1.25,replace=1.25
run joint "$INIT" "$JOINT"
run edit-only "$INIT" edit=1
run subject-only "$INIT" subject=1
run compose-only "$INIT" add=1,replace=1
run subject-edit "$INIT" subject=1,edit=2.5
run no-ffm "$OUT/init-noffm" "$JOINT"

# The table: every model against copy-source and chance, 40 cases per task of the benchmark split.
M=joint=$OUT/joint/model
for a in edit-only subject-only compose-only subject-edit no-ffm; do M=$M,$a=$OUT/$a/model; done
npx tsx $W/evaluate.ts --models "$M" --count 40 --out "$OUT/benchmark"
