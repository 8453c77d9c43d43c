import type { GenerationParams } from '@mige/pipelines';
import type { FlowName, PresetId, SamplerName } from '../api/api-types.js';
import type { UiImage } from './images.js';

/** What a run was asked to do: enough to run it again. */
export interface RunRequest {
  presetId: PresetId;
  flow: FlowName;
  instruction: string;
  /** The instruction's images in placeholder order (empty when they did not fit in storage). */
  images: UiImage[];
  sourceSlot: number | null;
  steps: number;
  scales: { y: number; s: number };
  seed: number;
  numImages: number;
  sampler: SamplerName;
}

export interface HistoryEntry {
  id: string;
  createdAt: string;
  model: string;
  request: RunRequest;
  results: string[];
  params: GenerationParams[];
  seconds: number;
  /** The inputs were dropped to fit the browser's storage: re-run is not possible. */
  inputsDropped?: boolean;
}

const KEY = 'mige-playground-history-v1';
const MAX_ENTRIES = 30;

export function loadHistory(): HistoryEntry[] {
  try {
    const raw = localStorage.getItem(KEY);
    const list = raw ? (JSON.parse(raw) as unknown) : [];
    return Array.isArray(list) ? (list as HistoryEntry[]) : [];
  } catch {
    return [];
  }
}

/**
 * Stores the newest entries that fit: the browser's quota (~5 MB) drops the oldest first,
 * then the newest entry's inputs.
 */
export function saveHistory(entries: readonly HistoryEntry[]): HistoryEntry[] {
  let list = entries.slice(0, MAX_ENTRIES);
  for (;;) {
    try {
      localStorage.setItem(KEY, JSON.stringify(list));
      return list;
    } catch {
      if (list.length > 1) list = list.slice(0, -1);
      else if (list.length === 1 && !list[0]?.inputsDropped) list = [{ ...(list[0] as HistoryEntry), request: { ...(list[0] as HistoryEntry).request, images: [] }, inputsDropped: true }];
      else {
        localStorage.removeItem(KEY);
        return [];
      }
    }
  }
}
