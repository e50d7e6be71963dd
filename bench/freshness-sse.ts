/**
 * POST-to-KPI latency through the push feed: the freshness benchmark (freshness.ts: one marker order
 * at a time, timed from its POST's 200 answer) with the polling watcher swapped for an SSE
 * subscription to `GET /v1/stream?kpi=net_revenue&window=1h` (sse-watch.ts). Background loads:
 * the thesis load (50,000 generated events a minute) and 1,000,000 events a minute.
 *
 * Compared against the goals printed beside the figures (thesis p50 ≤ 200 ms and p95 ≤ 500 ms,
 * 1M/min p95 ≤ 1 s); the polling figures of the same bench invocation are in the freshness rows.
 */
import { BACKGROUND_TICK_MS, freshnessOnce, type FreshnessRun } from './freshness.js';
import { repeatRuns } from './repeat.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult, type Figure } from './report.js';
import { SSE_PATH, openSseWatch } from './sse-watch.js';
import {
  formatMiB,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
  mergeCounts,
  percentile,
} from './stats.js';

export interface FreshnessSseOptions {
  readonly runs: number;
  readonly markers: number;
  readonly log: (line: string) => void;
  /** Only the million-a-minute load (`--only freshness-million`), not the thesis loads. */
  readonly millionOnly?: boolean;
}

interface Load {
  readonly name: string;
  readonly perSecond: number;
  /** Quality rules after each refresh. */
  readonly quality: boolean;
  /** Goals on the per-run percentiles' median, ms. */
  readonly goals: Readonly<Partial<Record<50 | 95 | 99, number>>>;
}

/** Requests in flight at most: like several producers, so that the load does not wait on one answer. */
const MAX_IN_FLIGHT = 4;

// The thesis load with and without the quality rules, side by side; 1M/min with them (as shipped).
const MILLION: Load = {
  name: '1,000,000 ev/min',
  perSecond: 1_000_000 / 60,
  quality: true,
  goals: { 95: 1_000 },
};
const LOADS: readonly Load[] = [
  { name: '50,000 ev/min, rules off', perSecond: 50_000 / 60, quality: false, goals: { 50: 200, 95: 500 } },
  { name: '50,000 ev/min, rules on', perSecond: 50_000 / 60, quality: true, goals: { 50: 200, 95: 500 } },
  MILLION,
];

function loadFigures(load: Load, runs: readonly FreshnessRun[]): Figure[] {
  const at = (q: number): number[] => runs.map((r) => percentile(r.latenciesMs, q));
  const latency = (q: 50 | 95 | 99 | 100): Figure => {
    const goal = q === 100 ? undefined : load.goals[q];
    return {
      label: `${load.name}: ${q === 100 ? 'max' : `p${q}`}`,
      values: at(q),
      format: formatMs,
      ...(goal === undefined
        ? {}
        : { goal: { label: `≤ ${formatMs(goal)}`, met: (m: number) => m <= goal } }),
    };
  };
  return [
    latency(50),
    latency(95),
    latency(99),
    latency(100),
    {
      label: `${load.name}: background acknowledged (target ${formatRate(load.perSecond)})`,
      values: runs.map((r) => r.backgroundPerSecond),
      format: formatRate,
    },
    {
      label: `${load.name}: server CPU (100 % = 1 core)`,
      values: runs.map((r) => r.cpuPercent.server),
      format: formatPercent,
    },
    {
      label: `${load.name}: load generator CPU`,
      values: runs.map((r) => r.cpuPercent.bench),
      format: formatPercent,
    },
    {
      label: `${load.name}: server peak RSS`,
      values: runs.map((r) => r.server.peakRssBytes),
      format: formatMiB,
    },
  ];
}

function loadNotes(load: Load, runs: readonly FreshnessRun[], discarded: readonly FreshnessRun[]): string[] {
  const sum = (pick: (r: FreshnessRun) => number): number => runs.reduce((s, r) => s + pick(r), 0);
  const nonOk = mergeCounts(runs.map((r) => r.backgroundNonOk));
  const missedReason = runs.find((r) => r.missedReason !== undefined)?.missedReason;
  const offered = runs.map((r) => r.backgroundOfferedPerSecond);
  const live = runs.map((r) => r.backgroundGeneratedLive);
  const busy = busyNotes(
    runs.map((r) => r.cpuPercent),
    discarded.map((r) => r.cpuPercent),
  );
  return [
    `${load.name}: markers not seen (30 s timeout or the stream ended): ${sum((r) => r.missed)}` +
      `${missedReason ? ` (first: ${missedReason})` : ''}; SSE events with a lower value than the one ` +
      `before during a wait (background refunds or cancellations): ${sum((r) => r.decreases)}; marker ` +
      `POSTs answered 503 and retried after Retry-After: ${sum((r) => r.marker503)}.`,
    `${load.name}: background offered ${formatRate(Math.min(...offered))}–${formatRate(Math.max(...offered))} ` +
      `(below the target when ${MAX_IN_FLIGHT} requests in flight could not keep up); non-200 answers (not retried, their events ` +
      `lost): ${Object.keys(nonOk).length === 0 ? 'none' : JSON.stringify(nonOk)}; events generated during a run ` +
      `because it outlasted the prepared ones: ${Math.max(...live) === 0 ? 'none' : `up to ${formatNumber(Math.max(...live))}`}.`,
    ...busy.map((note) => `${load.name}: ${note}`),
    ...serverNotes(runs.map((r) => r.server)).map((note) => `${load.name}: ${note}`),
  ];
}

export async function runFreshnessSseBenchmark(options: FreshnessSseOptions): Promise<BenchmarkResult> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  const allRuns: Record<string, FreshnessRun[]> = {};
  const allDiscarded: Record<string, FreshnessRun[]> = {};
  const loads = options.millionOnly ? [MILLION] : LOADS;
  for (const load of loads) {
    const once = async (i: number): Promise<FreshnessRun> => {
      const run = await freshnessOnce(i, options.markers, openSseWatch, {
        perSecond: load.perSecond,
        maxInFlight: MAX_IN_FLIGHT,
        quality: load.quality,
      });
      const p = (q: number): string => formatMs(percentile(run.latenciesMs, q));
      options.log(
        `freshness-sse ${load.name} run ${i}/${options.runs}: p50 ${p(50)}, p95 ${p(95)}, p99 ${p(99)}, ` +
          `max ${p(100)}, background ${formatRate(run.backgroundPerSecond)} acknowledged of ` +
          `${formatRate(run.backgroundOfferedPerSecond)} offered (${formatNumber(run.backgroundGeneratedLive)} ` +
          `generated live), non-200 ${JSON.stringify(run.backgroundNonOk)}, ` +
          `CPU server/bench/others ${cpuText(run.cpuPercent)}, missed ${run.missed}, 503 ${run.marker503}, ` +
          `peak RSS ${formatMiB(run.server.peakRssBytes)}`,
      );
      return run;
    };
    const { runs, discarded } = await repeatRuns(options.runs, once, options.log);
    figures.push(...loadFigures(load, runs));
    notes.push(...loadNotes(load, runs, discarded));
    allRuns[load.name] = runs;
    allDiscarded[load.name] = discarded;
  }
  return {
    name: options.millionOnly ? 'freshness-million' : 'freshness-sse',
    title: options.millionOnly
      ? 'POST-to-KPI latency, SSE, at 1,000,000 events a minute'
      : 'POST-to-KPI latency, SSE',
    method:
      `As the POST-to-KPI benchmark (${options.markers} marker orders per run after a warm-up one, each ` +
      `timed from its POST's 200 answer, a fresh Pulse and DuckDB file per run), but the marker is seen ` +
      `through one SSE subscription to \`GET ${SSE_PATH}\` opened before the markers: the latency ends when ` +
      `the chunk holding the first \`kpi\` event whose \`value\` includes the marker's net is read. ` +
      `Background load${loads.length > 1 ? 's' : ''} of generated events posted every ${BACKGROUND_TICK_MS} ms (up to ${MAX_IN_FLIGHT} requests ` +
      `in flight, at most 10,000 events a request): ` +
      `${loads.map((l) => `${l.name} (${formatNumber(l.perSecond)} ev/s)`).join(' and ')}; the acknowledged ` +
      `rate is what the server took. ` +
      (options.millionOnly
        ? ''
        : `The thesis load runs twice, without and with the quality rules (\`PULSE_QUALITY_ENABLED\`), to show ` +
          `what the incremental rule pass after each refresh costs. `) +
      `Percentiles are per run; the table gives their median over the runs. ` +
      `The background events of a run are generated and serialised before its Pulse starts (at 1M/min the ` +
      `generator plans 1.9 M orders ahead: tens of seconds and gigabytes of heap), so while the markers run the ` +
      `bench process only posts them (its CPU is the "load generator" row); their business times therefore trail ` +
      `the wall clock by the time that took, as from a producer with a fixed lag. Caveats: at 1M/min the warehouse grows by about a million events a ` +
      `minute during the run, so later markers see a bigger file than earlier ones; a marker the server ` +
      `refuses with 503 is retried after Retry-After and timed from its eventual 200.`,
    figures,
    notes,
    runs: Object.entries(allRuns).map(([load, runs]) => ({ load, runs })),
    discarded: Object.entries(allDiscarded).map(([load, runs]) => ({ load, runs })),
  };
}
