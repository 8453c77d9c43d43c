export { pngDataUrl } from '@mige/pipelines';
