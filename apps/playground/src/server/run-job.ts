export { runFlowJob as runJob, autoPreviewEvery } from '@mige/pipelines';
