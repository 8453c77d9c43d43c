import type { FlowJob } from '@mige/pipelines';

/** A checked job request with its images decoded (pipelines' FlowJob: everything a flow call needs), and how the server treats it. */
export interface JobSpec extends FlowJob {
  /** Cancel when the last event stream watching the job closes (the request's cancelOnDisconnect). */
  cancelOnDisconnect: boolean;
}
