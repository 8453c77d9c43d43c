import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The playground serves one machine's model to its own browser. A page on another site must not
 * reach it: not through DNS rebinding (its name resolving to 127.0.0.1, so the browser sends
 * `Host: attacker.example`), not through a cross-site fetch or form (an `Origin` that is not the
 * server's own), not by framing the UI. So every request must name an allowed host, API calls
 * from a browser must come from the server's own origin, and every answer carries headers that
 * forbid sniffing, framing and foreign scripts.
 */
export interface AccessOptions {
  /** Host names (without port) the server answers to, besides the loopback names. */
  allowedHosts?: readonly string[];
  /** Extra origins allowed to call the API, e.g. `https://mige.example.com` behind a proxy. */
  allowedOrigins?: readonly string[];
}

/** Names that only ever mean this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** The UI's own files and data URLs (images), nothing else: no inline script, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/** `host[:port]` or `[v6]:port` → the lower-case host name without brackets or port. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.status(status).send({ error: message });
}

/** Why a request may not be served, or undefined when it may. */
export function accessProblem(request: Pick<FastifyRequest, 'headers' | 'url'>, hosts: ReadonlySet<string>, origins: ReadonlySet<string>): string | undefined {
  const host = request.headers.host;
  if (typeof host !== 'string' || host === '') return 'the request names no Host';
  const name = hostName(host);
  if (!hosts.has(name)) {
    return `host '${name}' is not allowed (allowed: ${[...hosts].join(', ')}); start the server with --allow-host ${name} to serve that name`;
  }
  if (!request.url.startsWith('/api/')) return undefined;
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let own = false;
    try {
      own = origin !== 'null' && new URL(origin).host === host.toLowerCase();
    } catch {
      own = false;
    }
    if (!own && !origins.has(origin)) return `origin '${origin}' may not call this API: only pages served by this playground may`;
  }
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `a ${site} request may not call this API: only pages served by this playground may`;
  return undefined;
}

/**
 * Registers the checks and headers on `app`: 403 for a foreign Host or Origin (before any route
 * runs), 415 for a body in another charset than UTF-8, and the security headers on every answer
 * (set on the raw response, so the hijacked event streams carry them too).
 */
export function registerAccessControl(app: FastifyInstance, options: AccessOptions = {}): void {
  const hosts = new Set([...LOOPBACK_HOSTS, ...(options.allowedHosts ?? []).map((h) => hostName(h))]);
  const origins = new Set(options.allowedOrigins ?? []);
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
    const problem = accessProblem(request, hosts, origins);
    if (problem) return refuse(reply, 403, problem);
    const type = request.headers['content-type'];
    const charset = typeof type === 'string' ? /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1] : undefined;
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) return refuse(reply, 415, `send the request body as UTF-8 JSON (charset=${charset} is not accepted)`);
    return undefined;
  });
}
