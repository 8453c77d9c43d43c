import type { RgbImage } from '@mige/core';
import type { FlowOptions } from '@mige/pipelines';
import type { FlowName } from '../api/api-types.js';

/** A checked job request with its images decoded: everything a flow call needs. */
export interface JobSpec {
  flow: FlowName;
  instruction: string;
  /** The instruction's images in placeholder order. */
  images: RgbImage[];
  /** A source that is not one of the instruction's images. */
  source?: RgbImage;
  /** Which of `images` is the source (edit / compose without a separate source). */
  sourceSlot?: number;
  options: Required<Pick<FlowOptions, 'steps' | 'scales' | 'seed' | 'numImages' | 'sampler'>>;
  /** Cancel when the last event stream watching the job closes (the request's cancelOnDisconnect). */
  cancelOnDisconnect: boolean;
}
