import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

export interface StaticFile {
  body: Buffer;
  type: string;
  /** Vite's hashed assets never change; index.html must be revalidated. */
  immutable: boolean;
}

/** The file under `root` for a URL path (index.html for / and unknown routes); undefined when absent or outside root. */
export async function readStaticFile(root: string, urlPath: string): Promise<StaticFile | undefined> {
  const base = resolve(root);
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    return undefined;
  }
  const relative = normalize(decoded).replace(/^([/\\])+/, '');
  let path = resolve(base, relative);
  if (path !== base && !path.startsWith(base + sep)) return undefined;
  const isFile = await stat(path).then((s) => s.isFile(), () => false);
  if (!isFile) {
    // Paths with an extension are real files; anything else is the single-page app.
    if (extname(relative)) return undefined;
    path = join(base, 'index.html');
  }
  try {
    const body = await readFile(path);
    return { body, type: TYPES[extname(path)] ?? 'application/octet-stream', immutable: path.includes(`${sep}assets${sep}`) };
  } catch {
    return undefined;
  }
}
