import type { Preset, PresetExample, PresetId } from '../api/api-types.js';
import { InstructionText } from './InstructionText.js';

interface Props {
  presets: readonly Preset[];
  selected: PresetId;
  onSelect(id: PresetId): void;
  onExample(preset: Preset, example: PresetExample, index: number): void;
}

/** The four modes as buttons, and the selected mode's ready examples (one click to a filled-in instruction). */
export function Presets({ presets, selected, onSelect, onExample }: Props) {
  const preset = presets.find((p) => p.id === selected);
  return (
    <div className="presets">
      <div className="modes" role="group" aria-label="Mode">
        {presets.map((p) => (
          <button key={p.id} type="button" className="mode" aria-pressed={p.id === selected} onClick={() => onSelect(p.id)}>
            {p.label}
          </button>
        ))}
      </div>
      {preset && (
        <>
          <p className="note">{preset.description}</p>
          <div className="examples" role="group" aria-label={`${preset.label} examples`}>
            {preset.examples.map((ex, i) => (
              <button key={i} type="button" className="example" onClick={() => onExample(preset, ex, i)} aria-label={`Example ${i + 1}: ${ex.instruction}`} data-testid="example">
                <span className="example-text">
                  <InstructionText text={ex.instruction} images={ex.images} />
                </span>
              </button>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
