import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's gradient functions (see scripts/bundle-gradients.mjs).
import './generated/tfjs-gradients.cjs';
import { MigeInputError } from '../errors.js';
import { registerStridedSliceGradient, registerWasmKernels } from './wasm-kernels/index.js';
import { firstLine, isMissingPackage } from '../optional/optional-import.js';

/**
 * The compute backends MIGE.js can run on, fastest first. `tensorflow-gpu` and `tensorflow`
 * come from the optional packages @tensorflow/tfjs-node-gpu and @tensorflow/tfjs-node, which
 * are used only when the application has installed them (their install downloads libtensorflow,
 * which not every machine can do).
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCE: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** MIGE's name for the backend. */
  name: BackendName;
  /** tfjs's registered backend name (`tensorflow` for both tfjs-node flavours). */
  tfjsName: string;
  /** Why this one was chosen: `MIGE_BACKEND`, an explicit request, or the preference order. */
  reason: string;
}

const OPTIONAL_PACKAGES: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let active: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;
/** Backends whose failure has been logged (once per process). */
const reported = new Set<BackendName>();

function isBackendName(s: string): s is BackendName {
  return (BACKEND_PREFERENCE as readonly string[]).includes(s);
}

/** Why each backend that should have started did not (logged once per process). */
const failures = new Map<BackendName, string>();

/**
 * Loads the optional tfjs-node package for `name`: false when it is not installed (no reason
 * recorded: that is the normal case) or installed but broken (the reason is recorded).
 */
async function tryLoadOptional(name: BackendName): Promise<boolean> {
  const pkg = OPTIONAL_PACKAGES[name];
  if (!pkg) return true;
  try {
    await import(/* @vite-ignore */ pkg);
  } catch (error) {
    if (!isMissingPackage(error, pkg)) failures.set(name, `${pkg} is installed but did not load: ${firstLine(error)}`);
    return false;
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    failures.set(name, `${pkg} loaded but registered no 'tensorflow' backend`);
    return false;
  }
  return true;
}

async function activate(name: BackendName): Promise<boolean> {
  if (!(await tryLoadOptional(name))) return false;
  const tfjsName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  try {
    if (!(await tf.setBackend(tfjsName))) {
      failures.set(name, `tfjs could not initialise the '${tfjsName}' backend`);
      return false;
    }
    await tf.ready();
  } catch (error) {
    failures.set(name, `starting it failed: ${firstLine(error)}`);
    return false;
  }
  if (name === 'wasm') registerWasmKernels();
  else registerStridedSliceGradient();
  return true;
}

export interface InitBackendOptions {
  /** Force a backend: overrides `MIGE_BACKEND`, which overrides the preference order. */
  backend?: BackendName;
  /** Where the one-line "backend: ..." message goes; `null` silences it. Default: stderr. */
  log?: ((line: string) => void) | null;
}

/**
 * Picks and activates the compute backend: `options.backend` if given, else `MIGE_BACKEND` if
 * set, else the first of tensorflow-gpu, tensorflow, wasm, cpu that works (once per process).
 * A forced backend that cannot start is an error rather than a silent fallback.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.backend ? undefined : process.env.MIGE_BACKEND?.trim() || undefined;
  const requested = options.backend ?? env;
  if (active && (!requested || requested === active.name)) return Promise.resolve(active);
  if (pending && !requested) return pending;
  const log = options.log === undefined ? (l: string) => process.stderr.write(l + '\n') : options.log;
  pending = (async () => {
    let info: BackendInfo | undefined;
    if (requested) {
      if (!isBackendName(requested)) {
        throw new MigeInputError(
          `unknown backend "${requested}"; expected one of ${BACKEND_PREFERENCE.join(', ')}`,
          env ? 'MIGE_BACKEND' : 'initBackend({backend})',
        );
      }
      if (!(await activate(requested))) {
        const pkg = OPTIONAL_PACKAGES[requested];
        const why = failures.get(requested) ?? (pkg ? `${pkg} is not installed` : undefined);
        throw new MigeInputError(
          `backend "${requested}" could not start` + (why ? ` (${why})` : ''),
          env ? 'MIGE_BACKEND' : 'initBackend({backend})',
        );
      }
      info = { name: requested, tfjsName: tf.getBackend(), reason: env ? 'MIGE_BACKEND' : 'requested' };
    } else {
      for (const name of BACKEND_PREFERENCE) {
        if (await activate(name)) {
          info = { name, tfjsName: tf.getBackend(), reason: 'preference order' };
          break;
        }
        // A preferred backend that is there but broken says why before the next one is tried.
        const why = failures.get(name);
        if (why && log && !reported.has(name)) {
          reported.add(name);
          log(`[mige] backend ${name} could not start (${why}); trying the next one`);
        }
      }
    }
    if (!info) throw new Error('no tfjs backend could start (not even cpu)');
    if (log && active?.name !== info.name) log(`[mige] backend: ${info.name} (${info.reason})`);
    active = info;
    return info;
  })();
  // A failed request must not poison later calls.
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

/** The active backend, or undefined before `initBackend` has finished. */
export function getBackendInfo(): BackendInfo | undefined {
  return active;
}
