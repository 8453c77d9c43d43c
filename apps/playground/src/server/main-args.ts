import { parseArgs } from 'node:util';

/** A bad flag: exit code 2, as the mige CLI's usage errors. */
export class UsageError extends Error {}

export interface MainArgs {
  model: string | undefined;
  host: string;
  /** undefined: the first free port from 5173. */
  port: number | undefined;
  backend: string | undefined;
  ui: string | undefined;
  /** Run jobs on BullMQ workers over this Redis instead of in this process. */
  redis: string | undefined;
  queue: string | undefined;
  /** Host names served besides the loopback ones (--allow-host, comma-separated, repeatable). */
  allowHosts: string[];
  /** Origins allowed to call the API besides the server's own (--allow-origin). */
  allowOrigins: string[];
  help: boolean;
}

export const USAGE = `Usage: mige-playground [--model <dir|preset>] [--port <n>] [--host <addr>] [--backend <name>] [--redis <url>]

Starts the MIGE.js playground: a local web UI for generate / edit / compose.
  --model <dir|preset>  a MIGE.js model folder, or a preset (mige-tiny, mige-xl) with random weights;
                        default: env MIGE_MODEL, else the shipped default model
  --port <n>            port (default: the first free one from 5173; 0: any free port)
  --host <addr>         address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to your network)
  --backend <name>      tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest installed; env MIGE_BACKEND)
  --ui <dir>            the built UI to serve (default: dist/ui next to the server)
  --redis <url>         run the jobs on \`mige worker\` processes over this Redis (BullMQ) instead
                        of in this process; the workers must load the same model (default: env
                        MIGE_REDIS_URL, else in-process)
  --queue <name>        the workers' queue (default mige)
  --allow-host <names>  host names to answer besides localhost, 127.0.0.1 and ::1 (comma-separated;
                        needed to reach it by a LAN name or IP with --host 0.0.0.0); other names get 403
  --allow-origin <urls> origins besides its own allowed to call the API (e.g. https://mige.example.com
                        behind a reverse proxy)
  --help, -h            this help`;

/** Command-line flags of the server; throws UsageError with a one-line message on a bad flag. */
export function parseMainArgs(argv: string[], env: NodeJS.ProcessEnv): MainArgs {
  let parsed;
  try {
    parsed = parseFlags(argv);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const { values } = parsed;
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${values.port}`);
  }
  const backends = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
  if (values.backend !== undefined && !backends.includes(values.backend)) throw new UsageError(`--backend must be one of ${backends.join(', ')}, got ${values.backend}`);
  return {
    model: values.model ?? (env.MIGE_MODEL || undefined),
    host: values.host ?? '127.0.0.1',
    port,
    backend: values.backend,
    ui: values.ui,
    redis: values.redis ?? (env.MIGE_REDIS_URL || undefined),
    queue: values.queue,
    allowHosts: list(values['allow-host']),
    allowOrigins: list(values['allow-origin']),
    help: values.help ?? false,
  };
}

/** Repeated, comma-separated flag values as one list. */
function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      model: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      backend: { type: 'string' },
      ui: { type: 'string' },
      redis: { type: 'string' },
      queue: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
