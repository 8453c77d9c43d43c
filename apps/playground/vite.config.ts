import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src/ui', import.meta.url));

/**
 * The UI: built into dist/ui (served by the server). `vite` alone runs a dev server that
 * proxies /api to a playground server on PLAYGROUND_API (default http://127.0.0.1:5173).
 */
export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/ui', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    port: 5180,
    proxy: { '/api': process.env.PLAYGROUND_API ?? 'http://127.0.0.1:5173' },
  },
});
