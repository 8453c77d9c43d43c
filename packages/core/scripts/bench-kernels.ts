/**
 * Times the wasm kernel additions (src/backend/wasm-kernels) against what they replace: the stock
 * tfjs-wasm copy kernels, and for the gradient kernels that wasm lacks, the cpu backend's kernel
 * (what a round trip through cpu would cost, transfers not counted).
 *
 * Part of `pnpm bench` (through tsx); writes bench-results/core-kernels.txt.
 * Pass `--quick` to skip the slow cpu baselines.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../src/backend/wasm-kernels/index.js';

type Make = () => tf.Tensor | tf.Tensor[] | tf.TensorContainer;

const quick = process.argv.includes('--quick');

/** Median wall time of `reps` runs after one warm-up, reading nothing back (kernels run synchronously). */
function time(f: Make, reps = 5): number {
  tf.dispose(f());
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = f();
    ms.push(performance.now() - t0);
    tf.dispose(r);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

function rand(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', 1);
}

interface Case {
  name: string;
  /** Builds inputs on the current backend and returns the timed closure. */
  setup: () => { run: Make; inputs: tf.Tensor[] };
}

const copyCases: Case[] = [
  ...[0, 1, 2].map((axis) => ({
    name: `unstack [24,256,256] axis ${axis}`,
    setup: () => {
      const x = rand([24, 256, 256]);
      return { run: () => tf.unstack(x, axis), inputs: [x] };
    },
  })),
  {
    name: 'split [24,256,256] into 24 on axis 0',
    setup: () => {
      const x = rand([24, 256, 256]);
      return { run: () => tf.split(x, 24, 0), inputs: [x] };
    },
  },
  {
    name: 'split [4,1024,3072] into 3 on axis 2 (qkv)',
    setup: () => {
      const x = rand([4, 1024, 3072]);
      return { run: () => tf.split(x, 3, 2), inputs: [x] };
    },
  },
  {
    name: 'slice [1,256,256] of [24,256,256]',
    setup: () => {
      const x = rand([24, 256, 256]);
      return { run: () => tf.slice(x, [5, 0, 0], [1, 256, 256]), inputs: [x] };
    },
  },
  {
    name: 'slice [24,128,128] of [24,256,256]',
    setup: () => {
      const x = rand([24, 256, 256]);
      return { run: () => tf.slice(x, [0, 64, 64], [24, 128, 128]), inputs: [x] };
    },
  },
  {
    name: 'stridedSlice x[:, 1:255, :] of [24,256,256]',
    setup: () => {
      const x = rand([24, 256, 256]);
      return { run: () => tf.stridedSlice(x, [0, 1, 0], [24, 255, 256], [1, 1, 1]), inputs: [x] };
    },
  },
  {
    name: 'transpose [2,1024,3,8,64] perm [2,0,3,1,4] (qkv heads)',
    setup: () => {
      const x = rand([2, 1024, 3, 8, 64]);
      return { run: () => tf.transpose(x, [2, 0, 3, 1, 4]), inputs: [x] };
    },
  },
  {
    name: 'transpose [4,16,2,16,2,32] perm [0,1,3,2,4,5] (unpatchify)',
    setup: () => {
      const x = rand([4, 16, 2, 16, 2, 32]);
      return { run: () => tf.transpose(x, [0, 1, 3, 2, 4, 5]), inputs: [x] };
    },
  },
  {
    name: 'transpose [8,32,32,4,4] perm [4,3,2,1,0]',
    setup: () => {
      const x = rand([8, 32, 32, 4, 4]);
      return { run: () => tf.transpose(x, [4, 3, 2, 1, 0]), inputs: [x] };
    },
  },
];

function convFilterGrad(x: number[], co: number, k: number, stride: number, pad: 'same' | 'valid'): Case {
  return {
    name: `Conv2DBackpropFilter x[${x}] ${k}x${k}/${stride} ${pad} -> ${co}`,
    setup: () => {
      const xt = rand(x);
      const dyShape = tf.conv2d(xt as tf.Tensor4D, tf.zeros([k, k, x[3]!, co]) as tf.Tensor4D, stride, pad).shape;
      const dy = rand(dyShape);
      const attrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape: [k, k, x[3]!, co] };
      return {
        run: () => tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy }, attrs) as tf.Tensor,
        inputs: [xt, dy],
      };
    },
  };
}

function depthwiseGrads(x: number[], k: number): Case {
  return {
    name: `DepthwiseConv2dNativeBackpropFilter+Input x[${x}] ${k}x${k} same`,
    setup: () => {
      const xt = rand(x);
      const w = rand([k, k, x[3]!, 1]);
      const dy = rand(x);
      const attrs = { strides: 1, dilations: 1, pad: 'same' };
      return {
        run: () => [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xt, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x }) as tf.Tensor,
        ],
        inputs: [xt, w, dy],
      };
    },
  };
}

function embeddingGrad(vocab: number, tokens: number, dim: number): Case {
  return {
    name: `UnsortedSegmentSum [${tokens},${dim}] -> ${vocab} segments (embedding grad)`,
    setup: () => {
      const g = rand([tokens, dim]);
      const ids = tf.randomUniformInt([tokens], 0, vocab, 2) as tf.Tensor1D;
      return { run: () => tf.unsortedSegmentSum(g, ids, vocab), inputs: [g, ids] };
    },
  };
}

const gradCases: Case[] = [
  convFilterGrad([4, 32, 32, 8], 384, 2, 2, 'valid'),
  convFilterGrad([4, 64, 64, 128], 128, 3, 1, 'same'),
  convFilterGrad([1, 256, 256, 3], 64, 3, 1, 'same'),
  depthwiseGrads([4, 64, 64, 128], 3),
  embeddingGrad(1000, 512, 64),
  embeddingGrad(32000, 2048, 256),
];
/** Cases whose cpu baseline takes minutes (cpu's UnsortedSegmentSum is O(segments * size)); wasm only. */
const cpuTooSlow = new Set([gradCases[1]!.name, gradCases[2]!.name, gradCases[5]!.name]);

async function measure(backend: 'cpu' | 'wasm', cases: Case[], skip: Set<string> = new Set()): Promise<Map<string, number>> {
  await tf.setBackend(backend);
  await tf.ready();
  const out = new Map<string, number>();
  for (const c of cases) {
    if (skip.has(c.name)) continue;
    const { run, inputs } = c.setup();
    out.set(c.name, time(run, backend === 'cpu' ? 1 : 5));
    process.stderr.write(`  ${backend}: ${c.name}: ${out.get(c.name)!.toFixed(2)} ms\n`);
    tf.dispose(inputs);
  }
  return out;
}

function report(title: string, cases: Case[], before: Map<string, number>, after: Map<string, number>, beforeLabel: string): void {
  console.log(`\n${title}`);
  console.log(`${'case'.padEnd(70)} ${beforeLabel.padStart(12)} ${'ours (ms)'.padStart(10)} ${'speed-up'.padStart(9)}`);
  for (const c of cases) {
    const b = before.get(c.name);
    const a = after.get(c.name);
    const bs = b === undefined ? '-' : b.toFixed(2);
    const as = a === undefined ? '-' : a.toFixed(2);
    const sp = a !== undefined && b !== undefined ? `${(b / a).toFixed(1)}x` : '';
    console.log(`${c.name.padEnd(70)} ${bs.padStart(12)} ${as.padStart(10)} ${sp.padStart(9)}`);
  }
}

async function main(): Promise<void> {
  tf.env().set('IS_TEST', true); // silences the "install tfjs-node" banner
  const stockCopies = await measure('wasm', copyCases);
  const cpuGrads = quick ? new Map<string, number>() : await measure('cpu', gradCases, cpuTooSlow);
  registerWasmKernels();
  const oursCopies = await measure('wasm', copyCases);
  const oursGrads = await measure('wasm', gradCases);
  report('Copy kernels (wasm, single-threaded SIMD)', copyCases, stockCopies, oursCopies, 'stock (ms)');
  report('Gradient kernels missing on wasm', gradCases, cpuGrads, oursGrads, 'cpu (ms)');
}

await main();
