import { resolve } from 'node:path';
import { MigeInputError } from '@mige/core';
import { WORLD_TASKS, type WorldTask } from '@mige/data';
import { saveModel } from '../../model/index.js';
import { datasetFromManifest, datasetFromWorldSeed, REFERENCE_TRAIN_CONFIG, train, TRAIN_ENGINES, TRAIN_TASKS, type TrainConfig, type TrainDataset, type TrainTask } from '../../train/index.js';
import { choice, flag, num, parse, required, str, UsageError, type ParsedValues } from '../args.js';
import { BACKEND_HELP, BACKEND_OPTION, MODEL_HELP, modelFromArgs, startBackend } from '../common.js';
import type { Command } from '../io.js';

const R = REFERENCE_TRAIN_CONFIG;

export const trainCommand: Command = {
  name: 'train',
  summary: 'train or fine-tune a model (joint subject / edit / compositional data)',
  help: `Usage: mige train --model <dir|preset> (--data <manifest> | --world <n>) --out <dir> [options]

Trains every module but the ViT and the VAE (AdamW, IDDPM hybrid loss, CFG dropout 5/5/5 %).
Checkpoints go to <out>/step-XXXXXXXX/ (atomic; <out>/latest.json points at the newest), metrics
to <out>/metrics.jsonl, and the trained model to <out>/model when training ends. Ctrl-C writes a
checkpoint of the finished steps before stopping; --resume continues from it bit-exactly.
  --data <file>         MIGE records (JSON or JSONL; paths relative to the file)
  --world <n>           or: n synthetic-world examples, each rendered when drawn (no files)
  --world-size <px>     their canvas side (default: the model's image size)
  --world-seed <n>      their seed (default 0)
  --world-tasks <list>  how often the world draws each of its tasks, e.g. add=3,move=2 (tasks
                        not named keep 1; default: all nine equally often). Within --ratios'
                        groups: edit = recolor, remove, add, move, resize, background
  --world-subjects-on-source <p>
                        chance in [0, 1] that a world subject example is drawn onto a
                        background-only source instead, as a compositional add (default 0)
  --out <dir>           where checkpoints, metrics and the final model go
  --resume              continue from <out>/latest.json when it exists (with the same settings)
  --allow-changes       resume even with changed settings (recorded in <out>/resume-changes.jsonl)
  --steps <n>           optimizer steps (default ${R.steps})
  --batch-size <n>      examples per micro-batch (default ${R.batchSize})
  --grad-accum <n>      micro-batches per step (default ${R.gradAccumSteps})
  --lr <x>              learning rate (default ${R.lr})
  --weight-decay <x>    AdamW weight decay (default ${R.weightDecay})
  --warmup <n>          linear warm-up steps (default ${R.warmupSteps})
  --lr-schedule <s>     constant (default, as the reference) | cosine (decays to --min-lr-ratio · lr at the last step)
  --min-lr-ratio <x>    where the cosine ends (default 0)
  --max-grad-norm <x>   clip the gradient norm (default: off)
  --ema <decay>         keep an EMA of the weights (e.g. 0.999; default off)
  --ema-warmup          warm the EMA up: decay min(ema, (1+s)/(10+s)) at step s (diffusers)
  --mse <target>        the loss's mse term: eps (MIGE) | snr (PixArt's snr option: x0
                        error below t = 250) | v (v-prediction loss: (ε − ε̂)²/ᾱ_t);
                        default: v for a v-prediction model, else eps
  --mse-max-weight <w>  cap the v loss's weight 1/ᾱ_t (default: none)
  --edit-focus <x>      weigh the mse on an edit's cells 1 + x times the rest
                        (default 0: uniform, as the reference)
  --focus-on <cells>    changed (what the edit changes; default) | objects (every
                        object of the source and the target; synthetic-world data)
  --focus-below <t>     apply --edit-focus only to items drawn at timesteps below t
                        (default 1000: all)
  --timestep-power <k>  draw t with density ∝ t^(k−1): 1 uniform (default, as the
                        reference); 2 favours high noise, where edits are decided
  --ratios <list>       task weights, e.g. subject=1,edit=1,add=0.5,replace=0.5 (the default)
  --seed <n>            training seed (default 0)
  --latents <m>         sample (default, as the reference) | mean
  --checkpoint-every <n> (default ${R.checkpointEvery})   --keep-last <n> (default ${R.keepLast})
  --log-every <n>       (default ${R.logEvery})
  --stop-at <step>      stop (with a checkpoint) at this step; the lr schedule still
                        spans --steps, so a later --resume with more --steps continues it
  --log <mode>          auto (bar on a terminal, JSON lines otherwise) | bar | jsonl
  --engine <e>          onnx (ONNX Runtime: one differentiated graph of the whole loss;
                        the default for DiT backbones) | tfjs (TF.js autodiff: any backbone)
  --threads <n>         onnx: ONNX Runtime's threads (default 1: at 64 px one thread is
                        faster than two; big models want one per core)
  --device <d>          onnx: cpu (default) | cuda (a CUDA build of onnxruntime-node)
  --prefetch            onnx: prepare the next batch (examples, frozen VAE and ViT) while
                        the graph runs, on another core; the same results
  --workers <n>         tfjs: threads to train on (default 1): each step's batch is split over
                        n threads, each with a copy of the model (wasm computes on one core).
                        The result does not depend on n.
${MODEL_HELP}
${BACKEND_HELP}`,
  async run(argv, io) {
    const v = parse(argv, {
      model: { type: 'string' }, 'init-seed': { type: 'string' }, data: { type: 'string' }, world: { type: 'string' },
      'world-size': { type: 'string' }, 'world-seed': { type: 'string' }, 'world-tasks': { type: 'string' }, 'world-subjects-on-source': { type: 'string' }, out: { type: 'string', short: 'o' }, resume: { type: 'boolean' }, 'allow-changes': { type: 'boolean' },
      steps: { type: 'string' }, 'batch-size': { type: 'string' }, 'grad-accum': { type: 'string' }, lr: { type: 'string' },
      'weight-decay': { type: 'string' }, warmup: { type: 'string' }, 'lr-schedule': { type: 'string' }, 'min-lr-ratio': { type: 'string' }, 'max-grad-norm': { type: 'string' }, ema: { type: 'string' }, 'ema-warmup': { type: 'boolean' }, mse: { type: 'string' }, 'mse-max-weight': { type: 'string' }, 'edit-focus': { type: 'string' }, 'stop-at': { type: 'string' }, 'focus-on': { type: 'string' }, 'focus-below': { type: 'string' }, 'timestep-power': { type: 'string' },
      ratios: { type: 'string' }, seed: { type: 'string' }, latents: { type: 'string' }, 'checkpoint-every': { type: 'string' },
      'keep-last': { type: 'string' }, 'log-every': { type: 'string' }, log: { type: 'string' }, workers: { type: 'string' },
      engine: { type: 'string' }, threads: { type: 'string' }, device: { type: 'string' }, prefetch: { type: 'boolean' }, ...BACKEND_OPTION,
    });
    const modelArg = required(v, 'model');
    const out = required(v, 'out');
    const data = str(v, 'data');
    const world = num(v, 'world', { integer: true, min: 1 });
    if ((data === undefined) === (world === undefined)) throw new UsageError('give exactly one of --data <manifest> or --world <n>');
    for (const k of ['world-tasks', 'world-subjects-on-source']) if (data !== undefined && str(v, k) !== undefined) throw new UsageError(`--${k} applies to --world only`);
    const config = trainConfigFromArgs(v);
    const logMode = choice(v, 'log', ['auto', 'bar', 'jsonl'] as const) ?? 'auto';
    const engine = choice(v, 'engine', TRAIN_ENGINES);
    const threads = num(v, 'threads', { integer: true, min: 1, max: 256 });
    const device = choice(v, 'device', ['cpu', 'cuda'] as const);
    if (engine === 'tfjs' && (threads !== undefined || device !== undefined || flag(v, 'prefetch'))) throw new UsageError('--threads, --device and --prefetch apply to --engine onnx');
    if (engine === 'onnx' && str(v, 'workers') !== undefined) throw new UsageError('--workers applies to --engine tfjs; the ONNX engine takes --threads');
    await startBackend(v);
    const model = await modelFromArgs(v, modelArg);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const sizes = { imageSize: model.config.imageSize, vitSize: model.config.encoder.vision.imgSize };
      let dataset: TrainDataset;
      if (data !== undefined) {
        dataset = await datasetFromManifest(resolve(data), sizes);
      } else {
        const size = num(v, 'world-size', { integer: true, min: 32, max: 128 }) ?? model.config.imageSize;
        const seed = num(v, 'world-seed', { integer: true, min: 0 }) ?? 0;
        const tasks = str(v, 'world-tasks');
        const onSource = num(v, 'world-subjects-on-source', { min: 0, max: 1 });
        dataset = datasetFromWorldSeed({
          seed, count: world as number, size,
          ...(tasks !== undefined ? { taskRatios: parseWorldTasks(tasks) } : {}),
          ...(onSource !== undefined ? { subjectOnSource: onSource } : {}),
        }, sizes);
      }
      const stopAt = num(v, 'stop-at', { integer: true, min: 1 });
      const workers = num(v, 'workers', { integer: true, min: 1, max: 64 }) ?? 1;
      const result = await train({
        model, dataset, outDir: out, config, resume: flag(v, 'resume'), allowChanges: flag(v, 'allow-changes'), log: io.stderr, logMode, signal: controller.signal, workers,
        ...(stopAt !== undefined ? { stopAt } : {}),
        ...(engine !== undefined ? { engine } : {}),
        ...(threads !== undefined ? { threads } : {}),
        ...(flag(v, 'prefetch') ? { prefetch: true } : {}),
        ...(device === 'cuda' ? { executionProviders: [{ name: 'cuda' }, 'cpu'] } : {}),
      });
      await saveModel(model, resolve(out, 'model'));
      io.stdout.write(`trained ${result.step} steps on the ${result.engine} engine; checkpoint ${result.checkpoint}; model ${resolve(out, 'model')}\n`);
    } finally {
      process.off('SIGINT', onSigint);
      model.dispose();
    }
  },
};

function trainConfigFromArgs(v: ParsedValues): Partial<TrainConfig> {
  const c: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(k: K, x: TrainConfig[K] | undefined) => {
    if (x !== undefined) c[k] = x;
  };
  set('steps', num(v, 'steps', { integer: true, min: 1 }));
  set('batchSize', num(v, 'batch-size', { integer: true, min: 1 }));
  set('gradAccumSteps', num(v, 'grad-accum', { integer: true, min: 1 }));
  set('lr', num(v, 'lr', { min: Number.MIN_VALUE }));
  set('weightDecay', num(v, 'weight-decay', { min: 0 }));
  set('warmupSteps', num(v, 'warmup', { integer: true, min: 0 }));
  set('lrSchedule', choice(v, 'lr-schedule', ['constant', 'cosine'] as const));
  set('minLrRatio', num(v, 'min-lr-ratio', { min: 0, max: 1 }));
  set('maxGradNorm', num(v, 'max-grad-norm', { min: Number.MIN_VALUE }));
  set('emaDecay', num(v, 'ema', { min: Number.MIN_VALUE, max: 0.999999 }));
  if (flag(v, 'ema-warmup')) c.emaWarmup = true;
  set('mse', choice(v, 'mse', ['eps', 'snr', 'v'] as const));
  set('mseMaxWeight', num(v, 'mse-max-weight', { min: 1 }));
  set('editFocus', num(v, 'edit-focus', { min: 0 }));
  set('editFocusOn', choice(v, 'focus-on', ['changed', 'objects'] as const));
  set('editFocusBelow', num(v, 'focus-below', { integer: true, min: 1, max: 1000 }));
  set('timestepPower', num(v, 'timestep-power', { min: 1, max: 8 }));
  set('seed', num(v, 'seed', { integer: true, min: 0 }));
  set('latents', choice(v, 'latents', ['sample', 'mean'] as const));
  set('checkpointEvery', num(v, 'checkpoint-every', { integer: true, min: 1 }));
  set('keepLast', num(v, 'keep-last', { integer: true, min: 1 }));
  set('logEvery', num(v, 'log-every', { integer: true, min: 1 }));
  const ratios = str(v, 'ratios');
  if (ratios !== undefined) c.taskRatios = parseRatios(ratios);
  return c;
}

/** "subject=1,edit=2" → ratios (tasks not named get 0). */
export function parseRatios(s: string): Record<TrainTask, number> {
  return parseWeights(s, TRAIN_TASKS, 0, '--ratios');
}

/** "add=3,move=2" → the world's task ratios (tasks not named keep 1, the default's uniform draw). */
export function parseWorldTasks(s: string): Record<WorldTask, number> {
  return parseWeights(s, WORLD_TASKS, 1, '--world-tasks');
}

function parseWeights<K extends string>(s: string, names: readonly K[], unnamed: number, option: string): Record<K, number> {
  const out = Object.fromEntries(names.map((k) => [k, unnamed])) as Record<K, number>;
  for (const part of s.split(',')) {
    const [k, x, ...rest] = part.split('=');
    const name = (k ?? '').trim() as K;
    const n = Number(x);
    if (!names.includes(name) || rest.length > 0 || x === undefined || x.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new MigeInputError(`"${part}" is not task=weight with task one of ${names.join(', ')} and weight >= 0`, option);
    }
    out[name] = n;
  }
  if (names.every((k) => out[k] === 0)) throw new MigeInputError('every weight is 0', option);
  return out;
}
