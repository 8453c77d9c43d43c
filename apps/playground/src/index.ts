/** @mige/playground: a local web playground for MIGE.js (see README.md). */
export const packageName = '@mige/playground';
export * from './server/index.js';
export type * from './api/api-types.js';
export { cliCommand, type CliCommandInput } from './api/cli-command.js';
