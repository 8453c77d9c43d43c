// Runs src/train/train-worker.ts in a worker thread when MIGE.js runs from its sources (the
// tests): registers tsx, which then resolves from this package, and loads the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./train-worker.ts', import.meta.url).href);
