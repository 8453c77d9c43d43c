import type { InfoResponse, SamplerName } from '../api/api-types.js';

export interface ControlValues {
  steps: number;
  y: number;
  s: number;
  seed: number;
  numImages: number;
  sampler: SamplerName;
}

interface Props {
  values: ControlValues;
  info: InfoResponse;
  /** Whether the source scale applies (edit / compose). */
  hasSource: boolean;
  onChange(values: ControlValues): void;
}

const SAMPLER_LABELS: Record<SamplerName, string> = {
  'dpm-solver': 'DPM-Solver++',
  ddim: 'DDIM',
  ddpm: 'DDPM',
};

export function randomSeed(): number {
  return Math.floor(Math.random() * 1_000_000);
}

function numberField(value: string, fallback: number): number {
  const n = Number(value);
  return value.trim() === '' || !Number.isFinite(n) ? fallback : n;
}

/** Steps, guidance scales, seed, number of images and sampler: every field labelled. */
export function Controls({ values, info, hasSource, onChange }: Props) {
  const set = (patch: Partial<ControlValues>) => onChange({ ...values, ...patch });
  const { limits } = info;
  return (
    <fieldset className="controls">
      <legend>Settings</legend>
      <div className="field">
        <label htmlFor="steps">Steps</label>
        <input id="steps" type="number" min={1} max={limits.maxSteps} step={1} value={values.steps} onChange={(e) => set({ steps: numberField(e.target.value, values.steps) })} />
      </div>
      <div className="field">
        <label htmlFor="scale-y">Instruction guidance (s<sub>y</sub>)</label>
        <input id="scale-y" type="number" min={0} max={limits.maxScale} step={0.5} value={values.y} onChange={(e) => set({ y: numberField(e.target.value, values.y) })} />
      </div>
      <div className="field">
        <label htmlFor="scale-s">Source guidance (s<sub>s</sub>)</label>
        <input
          id="scale-s"
          type="number"
          min={0}
          max={limits.maxScale}
          step={0.25}
          value={values.s}
          disabled={!hasSource}
          aria-describedby={hasSource ? undefined : 'scale-s-note'}
          onChange={(e) => set({ s: numberField(e.target.value, values.s) })}
        />
        {!hasSource && (
          <span id="scale-s-note" className="note">
            generate has no source
          </span>
        )}
      </div>
      <div className="field">
        <label htmlFor="seed">Seed</label>
        <div className="inline">
          <input id="seed" type="number" min={0} step={1} value={values.seed} onChange={(e) => set({ seed: numberField(e.target.value, values.seed) })} />
          <button type="button" onClick={() => set({ seed: randomSeed() })} aria-label="Randomise the seed">
            Randomise
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor="num-images">Images</label>
        <input id="num-images" type="number" min={1} max={limits.maxNumImages} step={1} value={values.numImages} onChange={(e) => set({ numImages: numberField(e.target.value, values.numImages) })} />
      </div>
      <div className="field">
        <label htmlFor="sampler">Sampler</label>
        <select id="sampler" value={values.sampler} onChange={(e) => set({ sampler: e.target.value as SamplerName })}>
          {info.samplers.map((s) => (
            <option key={s} value={s}>
              {SAMPLER_LABELS[s]}
            </option>
          ))}
        </select>
      </div>
    </fieldset>
  );
}
