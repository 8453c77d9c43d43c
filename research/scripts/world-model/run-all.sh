#!/usr/bin/env bash
# The record of how mige-world v1 (the default model until issue 45) was made, stage by stage as it
# happened on TF.js wasm (RUNS.md): a joint stage and a chain of fine-tunes, depth grown from 6 to
# 12 blocks on the way. Kept for the record; the recipe of the current default model is
# packages/pipelines/scripts/world-model/train-mige-world.sh. v1's architecture is
# mige-world-v1.config.json (6 blocks, maxLength 72). Resumable: every stage continues from its
# latest checkpoint when re-run. Outputs under runs/world/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../../../packages/pipelines"
R=../../research/scripts/world-model
RUNS=${RUNS:-../../runs/world}
STEPS=${STEPS:-4500}
mkdir -p "$RUNS"
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824

# Stages 1 and 2 in parallel (wasm is single-threaded: one core each). The VAE trains on 32 px
# crops (a quarter of the cost), then briefly on whole 64 px images (GroupNorm sees whole-image
# statistics at inference).
VAE_STEPS=${VAE_STEPS:-5000}
( npx tsx scripts/world-model/train-vae.ts --out "$RUNS/vae" --steps "$VAE_STEPS" --lr 1e-3 &&
  npx tsx scripts/world-model/train-vae.ts --out "$RUNS/vae" --steps $((VAE_STEPS + 200)) --crop 64 ) > "$RUNS/vae.log" 2>&1 &
npx tsx scripts/world-model/train-vit.ts --out "$RUNS/vit" --steps 1500 > "$RUNS/vit.log" 2>&1 &
wait

# Stage 3: everything else, jointly (ViT and VAE frozen), with `mige train`.
[ -d "$RUNS/init" ] || npx tsx scripts/world-model/assemble.ts --config "$R/mige-world-v1.config.json" --vae "$RUNS/vae" --vit "$RUNS/vit" --out "$RUNS/init" --prediction v
TRAIN=(--world 10000 --world-size 64 --world-seed 3000 --batch-size 8 --lr 5e-4 --warmup 300
       --lr-schedule cosine --min-lr-ratio 0.05 --max-grad-norm 1 --ema 0.999 --ema-warmup
       --checkpoint-every 100 --keep-last 2 --log jsonl --log-every 20 --resume)
node dist/cli.js train --model "$RUNS/init" --out "$RUNS/joint" --steps "$STEPS" "${TRAIN[@]}" >> "$RUNS/joint.log" 2>&1

# The model folder from the run's EMA weights (the frozen VAE and ViT come from init): the
# ablations' equal-budget reference.
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$RUNS/init" --run "$RUNS/joint" --ema 1 --out "$RUNS/joint/model"

# Stage 3b, the default model: the joint run continued from its step 4500, as it happened
# (RUNS.md): on a 12,000-step cosine to step 5800, then on a 20,000-step one (each restart raises
# the lr again). LONG_STOP (default 20000) is where this call stops (stage 3c waits for 20000);
# re-running resumes.
LONG=$RUNS/joint-long
if [ ! -e "$LONG/latest.json" ]; then
  mkdir -p "$LONG"
  cp -r "$RUNS/joint/step-00004500" "$LONG/"
  echo '{"step":4500,"path":"step-00004500"}' > "$LONG/latest.json"
fi
node dist/cli.js train --model "$RUNS/init" --out "$LONG" --steps 12000 --stop-at 5800 "${TRAIN[@]}" >> "$RUNS/joint-long.log" 2>&1
node dist/cli.js train --model "$RUNS/init" --out "$LONG" --steps 20000 --stop-at "${LONG_STOP:-20000}" "${TRAIN[@]}" >> "$RUNS/joint-long.log" 2>&1
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$RUNS/init" --run "$LONG" --ema 1 --out "$LONG/model"
[ "$(node -p "require('$LONG/latest.json').step")" -ge 20000 ] || exit 0

# Stage 3c: a fine-tune of joint-long's EMA weights at step 20,000 (the model folder above) with
# a fresh AdamW on a new 5,000-step cosine from lr 2e-4 (RUNS.md), with the guidance scales
# chosen on the validation split.
FT=$RUNS/finetune
FINETUNE=(--world 10000 --world-size 64 --world-seed 3000 --batch-size 8 --lr 2e-4 --warmup 200 --lr-schedule cosine
          --min-lr-ratio 0.1 --max-grad-norm 1 --ema 0.999 --ema-warmup --checkpoint-every 200 --keep-last 2
          --log jsonl --log-every 20 --resume)
node dist/cli.js train --model "$LONG/model" --out "$FT" --steps 5000 --seed 1 "${FINETUNE[@]}" >> "$RUNS/finetune.log" 2>&1
SAMPLING='{"generate":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":2}},"edit":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":1.5,"s":1.5}},"compose":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":1.5,"s":1.5}}}'
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$LONG/model" --run "$FT" --ema 1 --sampling "$SAMPLING" --out "$FT/model"

# Stage 3d: stage 3c's recipe again on its EMA, with new batches (training seed 2) and a
# 7,000-step cosine (RUNS.md, 2026-11-29).
FT2=$RUNS/finetune3   # the run's name as it happened (RUNS.md)
node dist/cli.js train --model "$FT/model" --out "$FT2" --steps 7000 --seed 2 "${FINETUNE[@]}" >> "$RUNS/finetune3.log" 2>&1
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$FT/model" --run "$FT2" --ema 1 --sampling "$SAMPLING" --out "$FT2/model"

# Stage 3e: the same recipe once more on stage 3d's EMA (training seed 3, an 8,500-step cosine;
# RUNS.md, 2026-11-29, 08:42 UTC on).
FT3=$RUNS/finetune4   # the run's name as it happened (RUNS.md)
node dist/cli.js train --model "$FT2/model" --out "$FT3" --steps 8500 --seed 3 "${FINETUNE[@]}" >> "$RUNS/finetune4.log" 2>&1
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$FT2/model" --run "$FT3" --ema 1 --sampling "$SAMPLING" --out "$FT3/model"

# Stage 3f: a fourth fine-tune (training seed 4, a 7,000-step cosine;
# RUNS.md, 2026-11-29, 11:10 UTC on), then the mean of its EMA and stage 3e's (the default model at the time).
FT4=$RUNS/finetune5   # the run's name as it happened (RUNS.md)
node dist/cli.js train --model "$FT3/model" --out "$FT4" --steps 7000 --seed 4 "${FINETUNE[@]}" >> "$RUNS/finetune5.log" 2>&1
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$FT3/model" --run "$FT4" --ema 1 --sampling "$SAMPLING" --out "$FT4/model"
npx tsx $R/average-models.ts --models "$FT3/model,$FT4/model" --out "$RUNS/soup34"

# Stage 3g: a fifth fine-tune, of the mean (training seed 5, a
# 7,000-step cosine; RUNS.md, 2026-11-29, 13:23 UTC on), sampling generation from timestep 549.
FT5=$RUNS/finetune6   # the run's name as it happened (RUNS.md)
SHIPPED_SAMPLING='{"generate":{"sampler":{"type":"dpm-solver","maxTimestep":549},"steps":20,"scales":{"y":2}},"edit":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":1.5,"s":1.5}},"compose":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":1.5,"s":1.5}}}'
node dist/cli.js train --model "$RUNS/soup34" --out "$FT5" --steps 7000 --seed 5 "${FINETUNE[@]}" >> "$RUNS/finetune6.log" 2>&1
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$RUNS/soup34" --run "$FT5" --ema 1 --sampling "$SHIPPED_SAMPLING" --out "$FT5/model"

# Stage 3h: the DiT deepened from 6 to 12 blocks (each new block a
# copy of the one before with zeroed output projections, so it starts out computing exactly what
# stage 3g's model does), then stage 3g's recipe on it (training seed 6, a 4,400-step cosine;
# RUNS.md, 2026-12-04).
GROWN=$RUNS/grow12
npx tsx $R/grow-depth.ts --model "$FT5/model" --out "$GROWN"
FT6=$RUNS/grow12-ft
node dist/cli.js train --model "$GROWN" --out "$FT6" --steps 4400 --seed 6 "${FINETUNE[@]}" >> "$RUNS/grow12-ft.log" 2>&1
npx tsx scripts/world-model/checkpoint-to-model.ts --init "$GROWN" --run "$FT6" --ema 1 --sampling "$SHIPPED_SAMPLING" --out "$FT6/model"

# Stages 3i-3m: stage 3h's recipe again and again, each on the EMA before it and on 1,000,000
# fresh examples of its own world seed (each drawn about once; by stage 3h the model had memorised
# the 10,000 examples' compositions). Later flags override FINETUNE's. Each run keeps the name it
# had as it happened (RUNS.md, 2026-12-05).
# fresh_finetune INIT NAME STEPS TRAINING_SEED WORLD_SEED RATIOS [MORE_TRAIN_FLAGS...]
fresh_finetune() {
  node dist/cli.js train --model "$1" --out "$RUNS/$2" --steps "$3" --seed "$4" "${FINETUNE[@]}" \
    --world 1000000 --world-seed "$5" --ratios "$6" "${@:7}" >> "$RUNS/$2.log" 2>&1
  npx tsx scripts/world-model/checkpoint-to-model.ts --init "$1" --run "$RUNS/$2" --ema 1 --sampling "$SHIPPED_SAMPLING" --out "$RUNS/$2/model"
}
# 3i: the compositions' share doubled against the joint mix.
fresh_finetune "$FT6/model" grow12-fresh-compose 3600 9 5000 subject=1,edit=1,add=1,replace=1
# 3j (third session): compositional adds drawn twice as often.
fresh_finetune "$RUNS/grow12-fresh-compose/model" s3-add2 3600 10 6000 subject=1,edit=1,add=2,replace=1
# 3k (fourth session): both compositions drawn twice as often.
fresh_finetune "$RUNS/s3-add2/model" s4-comp2 3600 12 8000 subject=1,edit=1,add=2,replace=2
# 3l (fourth session): 3k once more, a 3,000-step cosine.
fresh_finetune "$RUNS/s4-comp2/model" s5-comp2 3000 14 9500 subject=1,edit=1,add=2,replace=2
# 3m (fifth session): the edits' share doubled as well.
fresh_finetune "$RUNS/s5-comp2/model" s6-edit2 3000 15 10500 subject=1,edit=2,add=2,replace=2
# 3n (seventh session): 3m's mix, longer and gentler (lr 1e-4 → 1e-5).
# As it happened it started as a 6,000-step cosine and resumed from step 200 as this 4,000-step
# one (the lr differs by under 0.1% up to there; RUNS.md).
fresh_finetune "$RUNS/s6-edit2/model" s7-long 4000 18 13500 subject=1,edit=2,add=2,replace=2 --lr 1e-4
# 3o, the shipped default model (eighth session): 3n's recipe twice more on 3n's EMA with new
# seeds, then the mean of the two EMAs (as stage 3f's mean).
fresh_finetune "$RUNS/s7-long/model" s9-long 4000 20 16500 subject=1,edit=2,add=2,replace=2 --lr 1e-4
fresh_finetune "$RUNS/s7-long/model" s9b-long 4000 21 18000 subject=1,edit=2,add=2,replace=2 --lr 1e-4
# The shipped sampling: edits at text guidance 3 (more instructions carried out on both
# validation splits, L2 still far below copy-source's; RUNS.md, 2026-12-06), the rest as before.
FINAL_SAMPLING='{"generate":{"sampler":{"type":"dpm-solver","maxTimestep":549},"steps":20,"scales":{"y":2}},"edit":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":3,"s":1.5}},"compose":{"sampler":{"type":"dpm-solver"},"steps":20,"scales":{"y":1.5,"s":1.5}}}'
npx tsx $R/average-models.ts --models "$RUNS/s9-long/model,$RUNS/s9b-long/model" --sampling "$FINAL_SAMPLING" --out "$RUNS/soup-s9"
