/** A checked job request with its images decoded: everything a flow call needs. */
export type { FlowJob as JobSpec } from '@mige/pipelines';
