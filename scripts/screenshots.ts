/**
 * `npm run screenshots`: the overview and a KPI page as PNGs in docs/, taken in headless chromium
 * against a fresh Pulse holding 8 days of generated demo history (about 2,000 orders a day) and
 * the demo key.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPulse } from '../src/app.js';
import { generateEvents } from '../src/generator/index.js';
import { DEMO_API_KEY } from '../src/security/index.js';
import { browserMissing, launchBrowser } from '../test/support/browser.js';

const DAYS = 8;
const ORDERS_PER_DAY = 2_000;
const BATCH = 5_000;

async function main(): Promise<void> {
  const missing = browserMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-screenshots-'));
  const pulse = await startPulse({
    dbPath: join(dir, 'demo.duckdb'),
    tokenKey: 'screenshots-token-key-0123456789',
    port: 0,
    timeZone: 'Europe/Paris',
    demo: true,
  });
  const browser = await launchBrowser();
  try {
    const to = new Date();
    process.stderr.write(`Generating ${DAYS} days of history…\n`);
    await pulse.loop.stop();
    let batch: { kind: 'value'; value: unknown }[] = [];
    for (const event of generateEvents(new Date(to.getTime() - DAYS * 86_400_000), to, {
      seed: 42,
      ordersPerDay: ORDERS_PER_DAY,
    })) {
      batch.push({ kind: 'value', value: event });
      if (batch.length >= BATCH) {
        await pulse.deliver(batch, { sourceKind: 'demo' });
        batch = [];
      }
    }
    if (batch.length > 0) await pulse.deliver(batch, { sourceKind: 'demo' });
    pulse.loop.restart();
    await pulse.refresh();

    const context = await browser.context();
    await context.addInitScript(
      (key) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem('pulse.apiKey', key),
      DEMO_API_KEY,
    );
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 860 });
    mkdirSync('docs', { recursive: true });
    await page.goto(`${pulse.url}/app/`);
    await page.waitForSelector('[data-testid="live-state"]:has-text("Live")');
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll('.sparkline path').length === 6,
    );
    await page.screenshot({ path: 'docs/overview.png', fullPage: true });
    await page.goto(`${pulse.url}/app/#/kpi/net_revenue`);
    await page.waitForSelector('.chart canvas');
    await page.click('label:has-text("Last 7 days")');
    await page.waitForSelector('[data-testid="breakdown-bar"]');
    await page.waitForTimeout(1_500);
    await page.locator('[data-testid="breakdown-bar"]').first().click();
    await page.waitForSelector('[data-testid="records"]');
    await page.screenshot({ path: 'docs/kpi-page.png', fullPage: false });
    process.stderr.write('Wrote docs/overview.png and docs/kpi-page.png\n');
  } finally {
    await browser.close();
    await pulse.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
