// Runs a TypeScript worker entry (process.argv[2], a file URL) in a worker thread when MIGE.js
// runs from its sources (the tests): registers tsx, which then resolves from this package, and
// loads the entry. spawnWorker passes the entry.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
