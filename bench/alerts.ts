/**
 * Breach-to-webhook latency and scorecard rendering, on a real Pulse under the thesis load
 * (50,000 generated events a minute).
 *
 * A rule watches Net Revenue over the last hour with a threshold no background traffic reaches
 * (1,000,000,000 EUR). Each marker is one order of 2,000,000,000 EUR: the time from its POST's 200
 * answer to the moment a local HTTP receiver gets the signed webhook for the firing is the figure;
 * beside it, measured on the same marker, the time until `GET /v1/kpis/net_revenue?window=1h` shows
 * it (the KPI path the alert rides on). The marker is then cancelled, the alert resolves, and the
 * next marker starts from a quiet rule (cooldown 0, for 0).
 *
 * Scorecards: `POST /v1/scorecards` for one region and day, timed end to end, against the same six
 * KPIs for the same day answered as JSON by `GET /v1/kpis?from=&to=` (the numbers without the PDF).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { backgroundSimulator, liveLines, startBackgroundLoad } from './background-load.js';
import { BACKGROUND_PER_SECOND, BACKGROUND_TICK_MS } from './freshness.js';
import { pollForValue, readValueCents } from './kpi-watch.js';
import { BENCH_AUTH, cpuMeter, startPulseProcess, type ServerStats } from './pulse-process.js';
import { repeatRuns } from './repeat.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult } from './report.js';
import { formatMiB, formatMs, formatPercent, formatRatio, percentile } from './stats.js';

export interface AlertsBenchOptions {
  readonly runs: number;
  readonly markers: number;
  readonly log: (line: string) => void;
}

const THRESHOLD_EUR = 1_000_000_000;
const MARKER_EUR = 2_000_000_000;
const TIMEOUT_MS = 30_000;
/** Longer than a refresh cycle under the background load. */
const PHASE_JITTER_MS = 1_000;
const WARMUP_MS = 3_000;
const SCORECARDS = 5;
const SECRET = 'bench-webhook-secret-0123456789';

interface AlertsRun {
  webhookMs: number[];
  kpiVisibleMs: number[];
  resolvedMs: number[];
  scorecardMs: number[];
  kpiJsonMs: number[];
  scorecardBytes: number;
  missed: number;
  missedReason?: string;
  cpuPercent: { server: number; bench: number; others: number };
  server: ServerStats;
}

function config(receiver: string): string {
  return `alerts:
  evaluate_every: 1s
  channels:
    - { name: bench, type: webhook, url: "${receiver}/hook", secret: ${SECRET} }
  band_rules: { enabled: false }
  rules:
    - { id: bench-revenue, kpi: net_revenue, window: 1h, condition: above, threshold: ${THRESHOLD_EUR}, for: 0, cooldown: 0, hysteresis: 0, channels: [bench] }
scorecards:
  regions: [FR]
`;
}

function marker(run: number, i: number, placedAt: Date): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: `bench-alert-${run}-${i}`,
    source: '/bench/alerts',
    type: 'order.placed',
    time: placedAt.toISOString(),
    data: {
      order_id: `BENCH-ALERT-${run}-${i}`,
      placed_at: placedAt.toISOString(),
      customer_id: 'C-BENCH',
      channel: 'web',
      brand: 'aurora',
      country: 'FR',
      currency: 'EUR',
      promised_delivery_at: new Date(placedAt.getTime() + 3 * 86_400_000).toISOString(),
      lines: [
        { line_no: 1, sku: 'SKU-BENCH', quantity: 1, unit_price: `${MARKER_EUR}.00`, discount: 0, tax: 0 },
      ],
    },
  };
}

function cancellation(run: number, i: number): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    specversion: '1.0',
    id: `bench-alert-cancel-${run}-${i}`,
    source: '/bench/alerts',
    type: 'order.status_changed',
    time: now,
    data: { order_id: `BENCH-ALERT-${run}-${i}`, status: 'cancelled', changed_at: now },
  };
}

async function post(url: string, event: Record<string, unknown>): Promise<void> {
  for (;;) {
    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { ...BENCH_AUTH, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    await response.arrayBuffer();
    if (response.status === 200) return;
    if (response.status !== 503) throw new Error(`POST /v1/events answered ${response.status}`);
    await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
  }
}

/** A webhook receiver that resolves waiters on the transition they wait for. */
async function startReceiver() {
  const waiters = new Map<string, (at: number) => void>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const at = performance.now();
      response.writeHead(200).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alert?: { transition: string } };
      const transition = body.alert?.transition;
      if (transition) waiters.get(transition)?.(at);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next(transition: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${transition} webhook within ${TIMEOUT_MS} ms`)),
          TIMEOUT_MS,
        );
        waiters.set(transition, (at) => {
          clearTimeout(timer);
          waiters.delete(transition);
          resolve(at);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function alertsOnce(run: number, markers: number): Promise<AlertsRun> {
  const receiver = await startReceiver();
  const pulse = await startPulseProcess({ extraConfig: config(receiver.url) });
  const background = startBackgroundLoad(
    pulse.url,
    liveLines(backgroundSimulator(11 + run, BACKGROUND_PER_SECOND)),
    BACKGROUND_PER_SECOND,
    BACKGROUND_TICK_MS,
  );
  const result: Omit<AlertsRun, 'cpuPercent' | 'server' | 'missedReason'> & { missedReason?: string } = {
    webhookMs: [],
    kpiVisibleMs: [],
    resolvedMs: [],
    scorecardMs: [],
    kpiJsonMs: [],
    scorecardBytes: 0,
    missed: 0,
  };
  try {
    await sleep(WARMUP_MS);
    const cpu = cpuMeter(pulse);
    for (let i = 0; i <= markers; i++) {
      const before = await readValueCents(pulse.url);
      const fired = receiver.next('firing');
      await post(pulse.url, marker(run, i, new Date()));
      const answered = performance.now();
      try {
        const [firedAt, seen] = await Promise.all([
          fired,
          pollForValue(pulse.url, before + MARKER_EUR * 100, TIMEOUT_MS),
        ]);
        const resolved = receiver.next('resolved');
        await post(pulse.url, cancellation(run, i));
        const cancelled = performance.now();
        const resolvedAt = await resolved;
        if (i > 0) {
          // Marker 0 warms the path up.
          result.webhookMs.push(firedAt - answered);
          result.kpiVisibleMs.push(seen.seenAt - answered);
          result.resolvedMs.push(resolvedAt - cancelled);
        }
      } catch (error) {
        result.missed++;
        result.missedReason ??= error instanceof Error ? error.message : String(error);
        await post(pulse.url, cancellation(run, i)).catch(() => undefined);
        await sleep(2_000);
      }
      // A random phase against the refresh cycle (a few hundred ms at this load): the next marker
      // would otherwise be posted just after the refresh that delivered the resolution, always at
      // the same, worst, point of the cycle, which no real breach is synchronised to.
      await sleep(Math.random() * PHASE_JITTER_MS);
    }
    const today = new Date().toISOString().slice(0, 10);
    const from = `${today}T00:00:00Z`;
    const to = new Date(Date.parse(from) + 86_400_000).toISOString();
    for (let i = 0; i <= SCORECARDS; i++) {
      let started = performance.now();
      const pdf = await fetch(`${pulse.url}/v1/scorecards`, {
        method: 'POST',
        headers: { ...BENCH_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ region: 'FR', date: today }),
      });
      const bytes = (await pdf.arrayBuffer()).byteLength;
      if (pdf.status !== 200) throw new Error(`POST /v1/scorecards answered ${pdf.status}`);
      const scorecardMs = performance.now() - started;
      started = performance.now();
      const json = await fetch(`${pulse.url}/v1/kpis?from=${from}&to=${to}`, { headers: BENCH_AUTH });
      await json.arrayBuffer();
      if (i > 0) {
        result.scorecardMs.push(scorecardMs);
        result.kpiJsonMs.push(performance.now() - started);
        result.scorecardBytes = bytes;
      }
    }
    const cpuPercent = cpu();
    await background.stop();
    return { ...result, cpuPercent, server: await pulse.stop() };
  } finally {
    await background.stop();
    await pulse.stop();
    await receiver.close();
  }
}

export async function runAlertsBenchmark(options: AlertsBenchOptions): Promise<BenchmarkResult> {
  const markers = Math.max(5, Math.min(options.markers, 50));
  const { runs, discarded } = await repeatRuns(
    options.runs,
    async (i) => {
      const run = await alertsOnce(i, markers);
      options.log(
        `alerts run ${i}/${options.runs}: webhook p50 ${formatMs(percentile(run.webhookMs, 50))}, ` +
          `p95 ${formatMs(percentile(run.webhookMs, 95))}, KPI visible p50 ${formatMs(percentile(run.kpiVisibleMs, 50))}, ` +
          `scorecard p50 ${formatMs(percentile(run.scorecardMs, 50))}, missed ${run.missed}` +
          `${run.missedReason ? ` (${run.missedReason})` : ''}, CPU ${cpuText(run.cpuPercent)}`,
      );
      return run;
    },
    options.log,
  );
  const per = (pick: (r: AlertsRun) => number[], q: number): number[] =>
    runs.map((r) => percentile(pick(r), q));
  return {
    name: 'alerts',
    title: 'Breach to webhook, and scorecard rendering',
    method:
      `${markers} breaching orders per run under ${Math.round(BACKGROUND_PER_SECOND * 60).toLocaleString('en')} ` +
      'generated events a minute: each timed from its POST’s 200 answer until a local receiver gets the ' +
      'signed webhook of the firing alert, against the time until the KPI itself shows it (polled GET, same ' +
      `marker). Then ${SCORECARDS} scorecards (one region, today) timed end to end, against the same six KPIs as JSON.`,
    figures: [
      {
        label: 'Breach → webhook p50',
        values: per((r) => r.webhookMs, 50),
        format: formatMs,
        baseline: { label: 'KPI visible p50', values: per((r) => r.kpiVisibleMs, 50), format: formatMs },
        goal: { label: '≤ 1 s', met: (median) => median <= 1_000 },
      },
      {
        label: 'Breach → webhook p95',
        values: per((r) => r.webhookMs, 95),
        format: formatMs,
        baseline: { label: 'KPI visible p95', values: per((r) => r.kpiVisibleMs, 95), format: formatMs },
        goal: { label: '≤ 1 s', met: (median) => median <= 1_000 },
      },
      { label: 'Cancel → resolved webhook p50', values: per((r) => r.resolvedMs, 50), format: formatMs },
      {
        label: 'Scorecard PDF (6 KPIs, 7-day trends) p50',
        values: per((r) => r.scorecardMs, 50),
        format: formatMs,
        baseline: { label: 'six KPIs as JSON p50', values: per((r) => r.kpiJsonMs, 50), format: formatMs },
      },
      {
        label: 'Server CPU (100 % = 1 core)',
        values: runs.map((r) => r.cpuPercent.server),
        format: formatPercent,
      },
      { label: 'Server peak RSS', values: runs.map((r) => r.server.peakRssBytes), format: formatMiB },
    ],
    notes: [
      `Markers missed (no webhook or KPI within ${TIMEOUT_MS / 1000} s): ${runs.reduce((s, r) => s + r.missed, 0)}` +
        `${runs.find((r) => r.missedReason)?.missedReason ? ` (first: ${runs.find((r) => r.missedReason)?.missedReason})` : ''}.`,
      `Scorecard size: ${runs[0]?.scorecardBytes ?? 0} bytes. Ratio column: webhook ÷ KPI visible, PDF ÷ JSON (${formatRatio(1)} = equal).`,
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
