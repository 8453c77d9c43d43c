/** The MIGE data format: records, readers/writers, validation and preprocessing. */
export { IMAGE_PLACEHOLDER, describePosition } from './types.js';
export type { BenchRecord, BenchTask, DatasetEntry, InvalidRecord, MigeRecord, RecordPosition } from './types.js';
export { parseBenchRecord, parseMigeRecord, type Parsed } from './parse-record.js';
export { DEFAULT_MAX_LINE_BYTES, isJsonl, readEntries, readJsonArrayEntries, readJsonlEntries, type ReadOptions } from './read-dataset.js';
export { writeRecords, writeTextAtomic } from './write-dataset.js';
export { resolveInsideRoot, type ResolvedPath } from './resolve-path.js';
export { checkRecord, countPlaceholders, realRoot, type RecordCheck, type ResolvedRecord, type ValidateOptions } from './validate.js';
export { iterateDataset, loadDataset, summarizeSkipped, type LoadedDataset, type LoadOptions, type ValidatedEntry } from './load-dataset.js';
export { loadBench, type BenchLoadOptions, type ResolvedBenchRecord } from './bench.js';
export { prepareExample, type PrepareSizes, type PreparedExample } from './prepare.js';
