/**
 * POST-to-KPI latency: under a background load at the thesis rate (50,000 events a minute from the
 * generator, NDJSON batches every 100 ms), the time from the 200 answer to the POST of one marker
 * order to the moment `GET /v1/kpis/net_revenue?window=1h` includes it. The marker's net amount is
 * unique and large (100,000.00 EUR + i), so the value must rise by at least that much (integer cents).
 *
 * Reference, measured in the same runs: the round trip of that GET (the resolution of this
 * measurement). Design target: KPIs within a second; the thesis refreshes every 2 minutes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Random } from '../src/generator/index.js';
import { backgroundSimulator, preparedLines, startBackgroundLoad } from './background-load.js';
import { KPI_PATH, openPollingWatch, POLL_MS, readValueCents, type OpenWatch } from './kpi-watch.js';
import { repeatRuns } from './repeat.js';
import { BENCH_AUTH, cpuMeter, startPulseProcess, type ServerStats } from './pulse-process.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult } from './report.js';
import {
  formatMiB,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
  mergeCounts,
  percentile,
} from './stats.js';

export interface FreshnessOptions {
  readonly runs: number;
  readonly markers: number;
  readonly log: (line: string) => void;
}

/** The thesis load: 50,000 events a minute. */
export const BACKGROUND_PER_SECOND = 50_000 / 60;
export const BACKGROUND_TICK_MS = 100;
const WARMUP_MS = 3_000;
const MARKER_TIMEOUT_MS = 30_000;
const MAX_MARKER_503 = 30;
/**
 * Background events serialised before a run: enough for the warm-up, two seconds per marker and ten
 * to spare (a marker takes its latency plus a pause of 50 ms on average). Past them the run goes on
 * with events generated live, and the run says how many.
 */
const PREPARED_SECONDS_PER_MARKER = 2;
const PREPARED_SPARE_SECONDS = 10;
const SEED = 7;

export interface FreshnessRun {
  latenciesMs: number[];
  getRoundTripP50Ms: number;
  /** Markers never seen (timeout or a failed GET), with the first reason. */
  missed: number;
  missedReason?: string;
  decreases: number;
  /** Marker POSTs answered 503 (and retried after Retry-After). */
  marker503: number;
  backgroundPerSecond: number;
  backgroundOfferedPerSecond: number;
  /** Background events generated during the run, beyond those prepared before it. */
  backgroundGeneratedLive: number;
  backgroundNonOk: Readonly<Record<string, number>>;
  /** CPU use while the markers ran, % of one core: the server, the bench process, other processes. */
  cpuPercent: { server: number; bench: number; others: number };
  /** Mean time of the refresh stages while the markers ran (Pulse's own histograms), ms. */
  stagesMs: StageMeans;
  server: ServerStats;
}

export interface StageMeans {
  readonly modelRun: number;
  readonly liveRecompute: number;
}

/** Sums and counts of the two refresh stages' histograms in `GET /metrics`. */
async function stageTotals(
  baseUrl: string,
): Promise<Record<keyof StageMeans, { sum: number; count: number }>> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: BENCH_AUTH })).text();
  const read = (metric: string, labels: string): { sum: number; count: number } => {
    const value = (suffix: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${metric}_${suffix}${labels} `));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    return { sum: value('sum'), count: value('count') };
  };
  return {
    modelRun: read('pulse_model_run_seconds', '{status="success"}'),
    liveRecompute: read('pulse_live_recompute_seconds', ''),
  };
}

function stageMeans(
  before: Awaited<ReturnType<typeof stageTotals>>,
  after: Awaited<ReturnType<typeof stageTotals>>,
): StageMeans {
  const mean = (stage: keyof StageMeans): number => {
    const count = after[stage].count - before[stage].count;
    return count === 0 ? Number.NaN : ((after[stage].sum - before[stage].sum) / count) * 1000;
  };
  return { modelRun: mean('modelRun'), liveRecompute: mean('liveRecompute') };
}

/** A valid order.placed in EUR, placed now, with one line whose net is exactly `amountCents`. */
function markerEvent(tag: string, i: number, amountCents: number): Record<string, unknown> {
  const now = new Date();
  const line = { line_no: 1, sku: 'SKU-BENCH', quantity: 1, unit_price: (amountCents / 100).toFixed(2) };
  return {
    specversion: '1.0',
    id: `bench-marker-${tag}-${i}`,
    source: '/bench/freshness',
    type: 'order.placed',
    time: now.toISOString(),
    data: {
      order_id: `BENCH-${tag}-${i}`,
      placed_at: now.toISOString(),
      customer_id: 'C-BENCH',
      channel: 'web',
      brand: 'aurora',
      country: 'FR',
      currency: 'EUR',
      promised_delivery_at: new Date(now.getTime() + 3 * 86_400_000).toISOString(),
      lines: [{ ...line, discount: 0, tax: 0 }],
    },
  };
}

/** Posts a marker; a 503 (backpressure) is retried after its Retry-After. Returns the 503s met. */
async function postMarker(baseUrl: string, event: Record<string, unknown>): Promise<number> {
  for (let rejected = 0; ; rejected++) {
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { ...BENCH_AUTH, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    const text = await response.text();
    if (response.status === 503 && rejected < MAX_MARKER_503) {
      await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
      continue;
    }
    if (response.status !== 200 || (JSON.parse(text) as { accepted?: number }).accepted !== 1) {
      throw new Error(`marker ${String(event.id)} answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return rejected;
  }
}

/** The background load of a run: events/s, and requests in flight at most. */
export interface Background {
  readonly perSecond: number;
  readonly maxInFlight: number;
  /** Quality rules after each refresh (default on, as Pulse ships). */
  readonly quality?: boolean;
  /** More pulse.config.yaml (alert rules, say), appended to the bench's own. */
  readonly extraConfig?: string;
  /** A warehouse with history to start on (copied), instead of an empty one. */
  readonly seedDb?: string;
}

/** One run: a fresh Pulse under a background load, `markers` markers seen through `watch`. */
export async function freshnessOnce(
  run: number,
  markers: number,
  watch: OpenWatch,
  load: Background = { perSecond: BACKGROUND_PER_SECOND, maxInFlight: 1 },
): Promise<FreshnessRun> {
  const preparedSeconds = WARMUP_MS / 1000 + markers * PREPARED_SECONDS_PER_MARKER + PREPARED_SPARE_SECONDS;
  const events = preparedLines(
    backgroundSimulator(SEED + run, load.perSecond),
    Math.ceil(preparedSeconds * load.perSecond),
  );
  const pulse = await startPulseProcess({
    quality: load.quality ?? true,
    ...(load.extraConfig ? { extraConfig: load.extraConfig } : {}),
    ...(load.seedDb ? { seedDb: load.seedDb } : {}),
  });
  const background = startBackgroundLoad(
    pulse.url,
    events,
    load.perSecond,
    BACKGROUND_TICK_MS,
    load.maxInFlight,
  );
  let watcher: Awaited<ReturnType<OpenWatch>> | undefined;
  const gaps = new Random(SEED, run);
  const latenciesMs: number[] = [];
  const roundTrips: number[] = [];
  let missed = 0;
  let missedReason: string | undefined;
  let decreases = 0;
  let marker503 = 0;
  try {
    await sleep(WARMUP_MS);
    watcher = await watch(pulse.url);
    const wait = watcher.wait;
    const cpu = cpuMeter(pulse);
    const stagesBefore = await stageTotals(pulse.url);
    // Marker 0 warms the path up and is not recorded.
    for (let i = 0; i <= markers; i++) {
      const amountCents = (100_000 + i) * 100;
      const before = await readValueCents(pulse.url);
      marker503 += await postMarker(pulse.url, markerEvent(String(run), i, amountCents));
      const answered = performance.now();
      try {
        const sighting = await wait(pulse.url, before + amountCents, MARKER_TIMEOUT_MS);
        if (i > 0) {
          latenciesMs.push(sighting.seenAt - answered);
          roundTrips.push(...sighting.roundTrips);
          decreases += sighting.decreases;
        }
      } catch (error) {
        missed++;
        missedReason ??= error instanceof Error ? error.message : String(error);
      }
      // A random pause, so that the markers do not lock onto the phase of the background ticks.
      await sleep(gaps.next() * BACKGROUND_TICK_MS);
    }
    const cpuPercent = cpu();
    const stagesMs = stageMeans(stagesBefore, await stageTotals(pulse.url));
    await watcher.close();
    const load = await background.stop();
    const server = await pulse.stop();
    return {
      latenciesMs,
      getRoundTripP50Ms: percentile(roundTrips, 50),
      missed,
      missedReason,
      decreases,
      marker503,
      backgroundPerSecond: load.acknowledgedPerSecond,
      backgroundOfferedPerSecond: load.offeredPerSecond,
      backgroundGeneratedLive: load.generatedLive,
      backgroundNonOk: load.nonOk,
      cpuPercent,
      stagesMs,
      server,
    };
  } finally {
    await watcher?.close();
    await background.stop();
    await pulse.stop();
  }
}

export async function runFreshnessBenchmark(options: FreshnessOptions): Promise<BenchmarkResult> {
  const once = async (i: number): Promise<FreshnessRun> => {
    const run = await freshnessOnce(i, options.markers, openPollingWatch);
    const p = (q: number): string => formatMs(percentile(run.latenciesMs, q));
    options.log(
      `freshness run ${i}/${options.runs}: p50 ${p(50)}, p95 ${p(95)}, p99 ${p(99)}, max ${p(100)}, ` +
        `GET ${formatMs(run.getRoundTripP50Ms)}, background ${formatRate(run.backgroundPerSecond)}, ` +
        `CPU server/bench/others ${cpuText(run.cpuPercent)}, missed ${run.missed}, peak RSS ${formatMiB(run.server.peakRssBytes)}`,
    );
    return run;
  };
  const { runs, discarded } = await repeatRuns(options.runs, once, options.log);
  // The same runs without the quality rules, for the cost of the incremental pass after each refresh.
  const onceWithoutRules = async (i: number): Promise<FreshnessRun> => {
    const run = await freshnessOnce(i, options.markers, openPollingWatch, {
      perSecond: BACKGROUND_PER_SECOND,
      maxInFlight: 1,
      quality: false,
    });
    options.log(
      `freshness (rules off) run ${i}/${options.runs}: p50 ${formatMs(percentile(run.latenciesMs, 50))}, ` +
        `p95 ${formatMs(percentile(run.latenciesMs, 95))}, CPU server/bench/others ${cpuText(run.cpuPercent)}`,
    );
    return run;
  };
  const withoutRules = await repeatRuns(options.runs, onceWithoutRules, options.log);
  const perOff = (q: number): number[] => withoutRules.runs.map((r) => percentile(r.latenciesMs, q));
  const per = (q: number): number[] => runs.map((r) => percentile(r.latenciesMs, q));
  const sum = (pick: (r: FreshnessRun) => number): number => runs.reduce((s, r) => s + pick(r), 0);
  const nonOk = mergeCounts(runs.map((r) => r.backgroundNonOk));
  const missedReason = runs.find((r) => r.missedReason !== undefined)?.missedReason;
  return {
    name: 'freshness',
    title: 'POST-to-KPI latency',
    method:
      `${options.markers} marker orders per run (after one warm-up marker), each timed from its POST's 200 ` +
      `answer until \`GET ${KPI_PATH}\` (polled every ${POLL_MS} ms) includes its net amount, under a ` +
      `background load of ${formatNumber(BACKGROUND_PER_SECOND)} generated events/s posted every ` +
      `${BACKGROUND_TICK_MS} ms, on a fresh DuckDB file each run. Percentiles are per run; the table gives ` +
      `their median over the runs. Reference: the GET round trip in the same runs (the resolution of the ` +
      `measurement); the design target is 1 s, the thesis cadence 2 min.`,
    figures: [
      { label: 'p50 (quality rules on)', values: per(50), format: formatMs },
      { label: 'p95 (quality rules on)', values: per(95), format: formatMs },
      { label: 'p99 (quality rules on)', values: per(99), format: formatMs },
      { label: 'max (quality rules on)', values: per(100), format: formatMs },
      { label: 'p50 (quality rules off)', values: perOff(50), format: formatMs },
      { label: 'p95 (quality rules off)', values: perOff(95), format: formatMs },
      { label: 'KPI GET round trip p50', values: runs.map((r) => r.getRoundTripP50Ms), format: formatMs },
      {
        label: 'Background load acknowledged',
        values: runs.map((r) => r.backgroundPerSecond),
        format: formatRate,
      },
      {
        label: 'Server CPU (100 % = 1 core)',
        values: runs.map((r) => r.cpuPercent.server),
        format: formatPercent,
      },
      { label: 'Other processes CPU', values: runs.map((r) => r.cpuPercent.others), format: formatPercent },
      { label: 'Server peak RSS', values: runs.map((r) => r.server.peakRssBytes), format: formatMiB },
    ],
    notes: [
      `Markers not seen (${MARKER_TIMEOUT_MS / 1000} s timeout or a failed GET): ${sum((r) => r.missed)}` +
        `${missedReason ? ` (first: ${missedReason})` : ''}. Polls that read a ` +
        `lower value than the poll before (background refunds or cancellations, which could delay a ` +
        `sighting): ${sum((r) => r.decreases)}. Marker POSTs answered 503 and retried: ${sum((r) => r.marker503)}.`,
      Object.keys(nonOk).length === 0
        ? 'Background non-200 answers: none.'
        : `Background non-200 answers (not retried): ${JSON.stringify(nonOk)}.`,
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
