/**
 * The README's screenshots with the shipped default model: the edit and replace presets' first
 * examples at desktop (1280×800) and phone (390×844) widths, written to docs/.
 * Needs the built app (`pnpm build`) and Chromium (PLAYWRIGHT_CHROMIUM or /usr/bin/chromium).
 *
 *   node apps/playground/scripts/screenshots.mjs
 */
import { fileURLToPath } from 'node:url';
import { initBackend } from '@mige/core';
import { loadDefaultModel } from '@mige/pipelines';
import { chromium } from 'playwright-core';
import { createServer } from '../dist/index.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
await initBackend({ log: null });
const model = await loadDefaultModel();
const app = await createServer({ model, uiDir: fileURLToPath(new URL('../dist/ui/', import.meta.url)) });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({ executablePath: process.env.PLAYWRIGHT_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
async function shoot(viewport, preset, prefix, extra) {
  const context = await browser.newContext({ viewport, ...extra });
  const page = await context.newPage();
  await page.goto(base);
  await page.getByRole('button', { name: preset, exact: true }).click();
  await page.screenshot({ path: `${docs}${prefix}-start.png` });
  await page.getByTestId('example').first().click();
  await page.getByTestId('run').click();
  await page.getByTestId('result-image').first().waitFor({ timeout: 120_000 });
  await page.screenshot({ path: `${docs}${prefix}-result.png`, fullPage: true });
  await context.close();
}
await shoot({ width: 1280, height: 800 }, 'Edit', 'desktop');
await shoot({ width: 390, height: 844 }, 'Replace', 'phone', { isMobile: true, hasTouch: true });
await browser.close();
await app.close();
model.dispose();
console.log(`screenshots → ${docs}`);
