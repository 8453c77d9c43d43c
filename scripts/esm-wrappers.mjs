// After tsup: every CommonJS bundle dist/**/<name>.cjs gets an ES module twin dist/**/<name>.js
// (and <name>.d.ts beside a <name>.d.cts) that only re-exports it, so `import` and `require`
// load the same module (one copy of each package's state). Run from a package folder.
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.cjs')) {
      const base = entry.name.slice(0, -'.cjs'.length);
      const line = `export * from './${base}.cjs';\n`;
      writeFileSync(join(dir, `${base}.js`), line);
      if (existsSync(join(dir, `${base}.d.cts`))) writeFileSync(join(dir, `${base}.d.ts`), line);
    }
  }
}

walk('dist');
