/**
 * POST-to-KPI latency at the thesis load on a warehouse that already holds a generated day (2.2 M
 * events: the 60,000 orders a day of the company, with their sessions, shipments, returns…), beside
 * the same load on an empty warehouse, run by run. The other freshness benchmarks start every run on
 * an empty file, so they never see what a day of history costs each refresh.
 *
 * Each pair of runs: the empty one, then the seeded one, both as freshness-sse measures them (marker
 * orders seen through `GET /v1/stream`, quality rules on), with the mean model run and live recompute
 * of the server read from its own histograms while the markers ran.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BACKGROUND_PER_SECOND,
  BACKGROUND_TICK_MS,
  freshnessOnce,
  type FreshnessOptions,
  type FreshnessRun,
} from './freshness.js';
import { ingestGenerated } from './pulse-cli.js';
import { repeatRuns } from './repeat.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult, type Figure } from './report.js';
import { SSE_PATH, openSseWatch } from './sse-watch.js';
import { formatMiB, formatMs, formatNumber, formatPercent, percentile } from './stats.js';

/** With history a marker takes seconds: more than this many would make one run last many minutes. */
const MAX_MARKERS = 30;
const MAX_IN_FLIGHT = 4;

interface Pair {
  readonly empty: FreshnessRun;
  readonly seeded: FreshnessRun;
  /** Both runs' CPU, for the busy-machine check: the others' share is the larger of the two. */
  readonly cpuPercent: { server: number; bench: number; others: number };
}

/** The day before today (UTC), generated and ingested once per invocation into `dir`. */
async function buildSeed(dir: string, log: (line: string) => void): Promise<string> {
  const started = performance.now();
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const path = join(dir, 'seed.duckdb');
  const ingest = await ingestGenerated(dir, ['--days', '1', '--from', yesterday], path);
  log(
    `freshness-history: seed day ${yesterday} ingested (${ingest.stdout.trim()}) in ` +
      `${formatNumber((performance.now() - started) / 1000, 1)} s, ${formatMiB(statSync(path).size)}`,
  );
  return path;
}

export async function runFreshnessHistoryBenchmark(options: FreshnessOptions): Promise<BenchmarkResult> {
  const markers = Math.min(options.markers, MAX_MARKERS);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-history-'));
  try {
    const seedDb = await buildSeed(dir, options.log);
    const load = { perSecond: BACKGROUND_PER_SECOND, maxInFlight: MAX_IN_FLIGHT, quality: true };
    const once = async (i: number): Promise<Pair> => {
      const empty = await freshnessOnce(i, markers, openSseWatch, load);
      const seeded = await freshnessOnce(i, markers, openSseWatch, { ...load, seedDb });
      for (const [name, run] of [
        ['empty', empty],
        ['a day of history', seeded],
      ] as const) {
        const p = (q: number): string => formatMs(percentile(run.latenciesMs, q));
        options.log(
          `freshness-history run ${i}/${options.runs}, ${name}: p50 ${p(50)}, p95 ${p(95)}, max ${p(100)}, ` +
            `model run ${formatMs(run.stagesMs.modelRun)}, live recompute ${formatMs(run.stagesMs.liveRecompute)}, ` +
            `CPU server/bench/others ${cpuText(run.cpuPercent)}, missed ${run.missed}`,
        );
      }
      const cpuPercent = {
        server: seeded.cpuPercent.server,
        bench: seeded.cpuPercent.bench,
        others: Math.max(empty.cpuPercent.others, seeded.cpuPercent.others),
      };
      return { empty, seeded, cpuPercent };
    };
    const { runs, discarded } = await repeatRuns(options.runs, once, options.log);
    const side = (of: (run: FreshnessRun) => number, format: (value: number) => string = formatMs) => ({
      values: runs.map((pair) => of(pair.seeded)),
      format,
      baseline: { label: 'empty warehouse', values: runs.map((pair) => of(pair.empty)), format },
    });
    const latency = (q: number, goal?: number): Figure => ({
      label: `POST → SSE p${q}`,
      ...side((run) => percentile(run.latenciesMs, q)),
      ...(goal === undefined
        ? {}
        : { goal: { label: `≤ ${formatMs(goal)}`, met: (m: number) => m <= goal } }),
    });
    const figures: Figure[] = [
      latency(50, 200),
      latency(95, 500),
      latency(99),
      { label: 'mean model run while the markers ran', ...side((run) => run.stagesMs.modelRun) },
      { label: 'mean live recompute while the markers ran', ...side((run) => run.stagesMs.liveRecompute) },
      { label: 'server CPU (100 % = 1 core)', ...side((run) => run.cpuPercent.server, formatPercent) },
    ];
    const missed = runs.reduce((n, r) => n + r.empty.missed + r.seeded.missed, 0);
    return {
      name: 'freshness-history',
      title: 'POST-to-KPI latency with a day of history',
      method:
        `The thesis load (${formatNumber(BACKGROUND_PER_SECOND)} generated events/s posted every ` +
        `${BACKGROUND_TICK_MS} ms, up to ${MAX_IN_FLIGHT} requests in flight, quality rules on) and ${markers} ` +
        `marker orders a run seen through \`GET ${SSE_PATH}\`, as in the SSE freshness benchmark, on a copy of ` +
        `a warehouse holding yesterday's generated day (\`pulse generate --days 1\` at 60,000 orders a day, ` +
        `then \`pulse ingest\`, once per invocation). Baseline, run just before in each pair: the same on an ` +
        `empty warehouse. The mean model run and live recompute are Pulse's own histograms ` +
        `(pulse_model_run_seconds, pulse_live_recompute_seconds) over the markers.`,
      figures,
      notes: [
        `Markers not seen in 30 s: ${missed}.`,
        ...busyNotes(
          runs.map((r) => r.cpuPercent),
          discarded.map((r) => r.cpuPercent),
        ),
        ...serverNotes(runs.map((r) => r.seeded.server)),
      ],
      runs,
      discarded,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
