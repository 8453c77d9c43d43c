import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage, type RgbImage } from '@mige/core';
import type { MigeModel } from '@mige/pipelines';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/server/index.js';
import { dataUrl, noiseImage, tinyModel } from './helpers.js';

const CHROMIUM = process.env.PLAYWRIGHT_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

async function imageFrom(page: Page, selector: string): Promise<RgbImage> {
  const src = await page.locator(selector).first().getAttribute('src');
  if (!src?.startsWith('data:image/png;base64,')) throw new Error(`${selector} has no PNG data URL`);
  return decodeImage(Buffer.from(src.split(',')[1] ?? '', 'base64'));
}

describe('the playground in Chromium (end to end)', () => {
  let model: MigeModel;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set PLAYWRIGHT_CHROMIUM to a Chromium binary`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    // The UI as it is now, built into test-artifacts/ (dist/ui may be stale).
    const uiDir = join(ARTIFACTS, 'ui');
    // Vitest sets NODE_ENV=test, which would give React's development build.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), build: { outDir: uiDir, emptyOutDir: true }, logLevel: 'error' });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    model = await tinyModel();
    app = await createServer({ model, uiDir, limits: { maxSteps: 1000 } });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    model?.dispose();
  });

  it('desktop: runs an edit example to a result that differs from its source, then cancels a second job', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The server's Content-Security-Policy must not block anything the UI does.
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
    });
    await page.goto(base);
    await expect(page.getByTestId('model').textContent()).resolves.toMatch(/mige-tiny · 32 px/);
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-start.png') });

    await page.getByTestId('example').first().click();
    expect(await page.locator('#instruction .chip').count()).toBe(1);
    expect(await page.locator('#instruction .chip').getAttribute('aria-label')).toMatch(/^image 1 \(source\): edit-1-source\.png$/);
    await page.getByLabel('Steps').fill('8');
    await page.getByLabel('Seed', { exact: true }).fill('5');
    await page.getByTestId('run').click();
    await page.getByTestId('result-image').first().waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/^Done in/);

    const result = await imageFrom(page, '[data-testid="result-image"]');
    const source = await imageFrom(page, '[data-testid="input-image"]');
    expect([result.width, result.height]).toEqual([32, 32]);
    expect([source.width, source.height]).toEqual([32, 32]);
    let changed = 0;
    for (let i = 0; i < result.data.length; i++) changed += Number(result.data[i] !== source.data[i]);
    expect(changed / result.data.length).toBeGreaterThan(0.5);
    const shown = JSON.parse((await page.locator('details pre').textContent()) ?? '{}') as Record<string, unknown>;
    expect(shown).toMatchObject({ flow: 'edit', model: 'mige-tiny', seed: 5, steps: 8, scales: { y: 5, s: 1 }, size: 32 });
    expect(await page.getByTestId('history-item').count()).toBe(1);

    await page.getByRole('button', { name: 'Copy CLI command' }).first().click();
    await page.locator('.notice', { hasText: 'mige edit' }).waitFor({ timeout: 10_000 });
    await expect(page.locator('.notice').textContent()).resolves.toMatch(/mige edit --model mige-tiny -i '[^']*<imagehere>[^']*' --source edit-1-source\.png --steps 8 --scale-y 5 --scale-s 1 --seed 5 -o out\.png/);
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-result.png'), fullPage: true });

    // A second, long job: live progress, then Cancel.
    await page.getByLabel('Steps').fill('1000');
    await page.getByTestId('run').click();
    await page.waitForFunction(() => /^Step [1-9]\d* of 1000$/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-progress.png') });
    await page.getByTestId('cancel').click();
    await page.waitForFunction(() => /^Cancelled/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await expect(page.getByTestId('status').textContent()).resolves.toBe('Cancelled.');
    expect(await page.getByTestId('history-item').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-cancelled.png') });

    // Re-run from the history: same inputs and parameters, so the same image (same backend).
    const first = await page.locator('[data-testid="history-item"] img').first().getAttribute('src');
    await page.getByRole('button', { name: 'Re-run' }).first().click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"]').length === 2, undefined, { timeout: 60_000 });
    expect(await page.getByLabel('Steps').inputValue()).toBe('8');
    expect(await page.locator('[data-testid="result-image"]').first().getAttribute('src')).toBe(first);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('builds an instruction from typed text and images chosen, pasted and dropped at the caret', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const editor = page.getByRole('textbox', { name: /^Instruction/ });
    await editor.click();
    await page.keyboard.type('a photo of ');
    const png = Buffer.from((await dataUrl(noiseImage(20, 20, 3))).split(',')[1] ?? '', 'base64');
    await page.getByTestId('file-input').setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: png });
    await page.locator('#instruction .chip').first().waitFor();
    await page.keyboard.type('next to');
    const b64 = png.toString('base64');
    // Clipboard and drag-and-drop with real File objects, as the browser delivers them.
    await page.evaluate(async (data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = (name: string) => {
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: 'image/png' }));
        return dt;
      };
      const el = document.getElementById('instruction') as HTMLElement;
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer('dog.png'), bubbles: true, cancelable: true }));
      await new Promise((r) => setTimeout(r, 300));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer('hat.png'), bubbles: true, cancelable: true }));
    }, b64);
    await page.waitForFunction(() => document.querySelectorAll('#instruction .chip').length === 3);
    const labels = await page.locator('#instruction .chip').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(labels).toEqual(['image 1: cat.png', 'image 2: dog.png', 'image 3: hat.png']);
    await page.getByLabel('Steps').fill('3');
    await page.getByTestId('run').click();
    await page.getByTestId('result-image').first().waitFor({ timeout: 60_000 });
    const shown = JSON.parse((await page.locator('details pre').textContent()) ?? '{}') as Record<string, unknown>;
    expect(shown.instruction).toBe('a photo of <imagehere> next to <imagehere> <imagehere>');
    expect(await page.getByTestId('input-image').count()).toBe(3);
    await context.close();
  });

  it('phone: a replace example run from the keyboard (Enter in the instruction)', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByRole('button', { name: 'Replace', exact: true }).click();
    await page.screenshot({ path: join(ARTIFACTS, 'phone-start.png') });
    await page.getByTestId('example').first().click();
    expect(await page.locator('#instruction .chip').count()).toBe(2);
    await page.getByLabel('Steps').fill('6');
    await page.getByRole('textbox', { name: /^Instruction/ }).focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.getByTestId('result-image').first().waitFor({ timeout: 60_000 });
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'phone-result.png'), fullPage: true });
    await context.close();
  });
});
