/**
 * The dashboard in a real browser (Debian's chromium through playwright-core): time to interactive
 * on the loopback, the JavaScript the first load transfers, and event-to-tile latency — from the
 * moment a marker order's POST returns 200 until the Net Revenue tile's DOM shows the new total —
 * measured side by side with a plain SSE client in this process seeing the same value (the baseline:
 * what the browser adds on top of the feed is the ratio).
 */
import type { Page } from 'playwright-core';
import { launchBrowser, browserMissing } from '../test/support/browser.js';
import { BENCH_AUTH, cpuMeter, startPulseProcess, type ServerStats } from './pulse-process.js';
import { repeatRuns } from './repeat.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult } from './report.js';
import { openSseWatch } from './sse-watch.js';
import { formatMs, formatNumber, formatRatio, percentile } from './stats.js';

export interface DashboardBenchOptions {
  readonly runs: number;
  readonly markers: number;
  readonly log: (line: string) => void;
}

interface DashboardRun {
  readonly ttiMs: number;
  readonly jsBytes: number;
  readonly browserMs: number[];
  readonly sseMs: number[];
  readonly missed: number;
  readonly cpuPercent: { server: number; bench: number; others: number };
  server: ServerStats;
}

const MARKER_TIMEOUT_MS = 30_000;
const BENCH_KEY = (BENCH_AUTH.authorization as string).replace('Bearer ', '');

/** The tile's text for a total in cents, as the dashboard writes it ("1,234.56"). */
function moneyText(cents: number): string {
  const whole = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${whole}.${String(cents % 100).padStart(2, '0')}`;
}

function marker(i: number, cents: number): Record<string, unknown> {
  const now = new Date();
  return {
    specversion: '1.0',
    id: `bench-dashboard-${i}-${now.getTime()}`,
    source: '/bench/dashboard',
    type: 'order.placed',
    time: now.toISOString(),
    data: {
      order_id: `BENCH-DASH-${i}-${now.getTime()}`,
      placed_at: now.toISOString(),
      customer_id: 'C-BENCH',
      channel: 'web',
      brand: 'aurora',
      country: 'FR',
      currency: 'EUR',
      promised_delivery_at: new Date(now.getTime() + 3 * 86_400_000).toISOString(),
      lines: [
        {
          line_no: 1,
          sku: 'SKU-BENCH',
          quantity: 1,
          unit_price: (cents / 100).toFixed(2),
          discount: 0,
          tax: 0,
        },
      ],
    },
  };
}

/** Records (Date.now(), text) each time the Net Revenue tile's value changes, inside the page. */
async function watchTile(page: Page): Promise<void> {
  await page.evaluate(() => {
    const target = (
      globalThis as unknown as { document: { querySelector(s: string): unknown } }
    ).document.querySelector('[data-testid="tile-net_revenue"] [data-testid="tile-value"]') as {
      textContent: string | null;
    };
    const seen: { text: string | null; at: number }[] = [];
    (globalThis as unknown as { __seen: typeof seen }).__seen = seen;
    const Observer = (
      globalThis as unknown as {
        MutationObserver: new (cb: () => void) => { observe(t: unknown, o: unknown): void };
      }
    ).MutationObserver;
    new Observer(() => seen.push({ text: target.textContent, at: Date.now() })).observe(target, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

async function runOnce(i: number, options: DashboardBenchOptions): Promise<DashboardRun> {
  const pulse = await startPulseProcess();
  const browser = await launchBrowser();
  try {
    const context = await browser.context();
    await context.addInitScript(
      (key) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem('pulse.apiKey', key),
      BENCH_KEY,
    );
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(`${pulse.url}/app/`);
    await page.waitForFunction(() => {
      const doc = (
        globalThis as unknown as {
          document: {
            querySelectorAll(s: string): { length: number };
            querySelector(s: string): { textContent: string | null } | null;
          };
        }
      ).document;
      return (
        doc.querySelectorAll('li[data-testid^="tile-"]').length === 6 &&
        /Live/.test(doc.querySelector('[data-testid="live-state"]')?.textContent ?? '')
      );
    });
    const ttiMs = Date.now() - started;
    const jsBytes = await page.evaluate(() =>
      (
        globalThis as unknown as {
          performance: { getEntriesByType(t: string): { name: string; transferSize: number }[] };
        }
      ).performance
        .getEntriesByType('resource')
        .filter((entry) => entry.name.endsWith('.js'))
        .reduce((sum, entry) => sum + entry.transferSize, 0),
    );
    await watchTile(page);
    const sse = await openSseWatch(pulse.url);
    const meter = cpuMeter(pulse);
    const browserMs: number[] = [];
    const sseMs: number[] = [];
    let missed = 0;
    let totalCents = 0;
    for (let m = 0; m < options.markers; m += 1) {
      const cents = 100 + m;
      totalCents += cents;
      const expected = moneyText(totalCents);
      const response = await fetch(`${pulse.url}/v1/events`, {
        method: 'POST',
        headers: { ...BENCH_AUTH, 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(marker(m, cents)),
      });
      await response.arrayBuffer();
      const returnedWall = Date.now();
      const returnedPerf = performance.now();
      if (response.status !== 200) throw new Error(`marker POST answered ${response.status}`);
      try {
        const [sighting, seenAt] = await Promise.all([
          sse.wait(pulse.url, totalCents, MARKER_TIMEOUT_MS),
          page
            .waitForFunction(
              (want) =>
                (globalThis as unknown as { __seen: { text: string | null; at: number }[] }).__seen.find(
                  (s) => s.text === want,
                )?.at ?? false,
              expected,
              { timeout: MARKER_TIMEOUT_MS, polling: 'raf' },
            )
            .then((handle) => handle.jsonValue() as Promise<number>),
        ]);
        sseMs.push(sighting.seenAt - returnedPerf);
        browserMs.push(Math.max(0, seenAt - returnedWall));
      } catch {
        missed += 1;
      }
    }
    const cpuPercent = meter();
    await sse.close();
    const run = { ttiMs, jsBytes, browserMs, sseMs, missed, cpuPercent, server: await pulse.stop() };
    options.log(
      `dashboard run ${i}/${options.runs}: TTI ${formatMs(ttiMs)}, JS ${formatNumber(jsBytes / 1024, 1)} KiB, ` +
        `tile p50 ${formatMs(percentile(browserMs, 50))} p95 ${formatMs(percentile(browserMs, 95))}, ` +
        `SSE p50 ${formatMs(percentile(sseMs, 50))}, missed ${missed}, CPU ${cpuText(cpuPercent)}`,
    );
    return run;
  } finally {
    await browser.close();
    await pulse.stop();
  }
}

export async function runDashboardBenchmark(options: DashboardBenchOptions): Promise<BenchmarkResult> {
  const reason = browserMissing();
  if (reason) throw new Error(`the dashboard benchmark needs a browser: ${reason}`);
  const { runs, discarded } = await repeatRuns(options.runs, (i) => runOnce(i, options), options.log);
  const at = (pick: (r: DashboardRun) => number[], q: number) => runs.map((r) => percentile(pick(r), q));
  return {
    name: 'dashboard',
    title: 'Dashboard in the browser',
    method:
      `Per run: a fresh Pulse, a fresh headless chromium profile; the overview is loaded cold (time to ` +
      `interactive: navigation start to six tiles drawn and the live feed open, loopback), then ` +
      `${options.markers} marker orders are posted one at a time, no background load; each latency runs from ` +
      `the POST's 200 to the tile's DOM showing the new total (a MutationObserver in the page), beside a ` +
      `plain SSE client in the bench process seeing the same total (the baseline).`,
    figures: [
      { label: 'time to interactive (cold, loopback)', values: runs.map((r) => r.ttiMs), format: formatMs },
      {
        label: 'first-load JavaScript transferred (KiB, compressed as served)',
        values: runs.map((r) => r.jsBytes / 1024),
        format: (v) => formatNumber(v, 1),
        goal: { label: '≤ 250 KiB', met: (m) => m <= 250 },
      },
      {
        label: 'event-to-tile p50',
        values: at((r) => r.browserMs, 50),
        format: formatMs,
        baseline: { label: 'SSE client p50', values: at((r) => r.sseMs, 50), format: formatMs },
      },
      {
        label: 'event-to-tile p95',
        values: at((r) => r.browserMs, 95),
        format: formatMs,
        baseline: { label: 'SSE client p95', values: at((r) => r.sseMs, 95), format: formatMs },
        goal: { label: '≤ 1 s', met: (m) => m <= 1_000 },
      },
    ],
    notes: [
      `Markers not seen within ${MARKER_TIMEOUT_MS / 1000} s: ${runs.reduce((s, r) => s + r.missed, 0)}.`,
      `Ratios (tile ÷ SSE client) show what React, the DOM and the browser's EventSource add: ${runs
        .map((r) => formatRatio(percentile(r.browserMs, 50) / Math.max(percentile(r.sseMs, 50), 0.001)))
        .join(', ')} at p50 per run.`,
      ...busyNotes(
        runs.map((r) => r.cpuPercent),
        discarded.map((r) => r.cpuPercent),
      ),
      ...serverNotes(runs.map((r) => r.server)),
    ],
    runs,
    discarded,
  };
}
