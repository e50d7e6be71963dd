/**
 * What one incremental quality pass costs after a typical refresh: the pipeline (in this process,
 * no HTTP) on a fresh DuckDB file loaded with a day of generated history, then refreshes of 100 ms
 * of the thesis load each (≈ 83 events), timing the model run and the quality pass that follows it.
 * The baseline is the model run of the same refresh; the full pass (every rule on every row) is
 * measured once per run on the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPipeline } from '../src/app.js';
import { generateEvents, TrafficSimulator } from '../src/generator/index.js';
import { deliverAndRun } from './deliver-events.js';
import type { BenchmarkResult } from './report.js';
import { formatMs, formatNumber, percentile } from './stats.js';

export interface QualityPassOptions {
  readonly runs: number;
  readonly log: (line: string) => void;
}

const HISTORY_ORDERS_PER_DAY = 10_000;
const REFRESHES = 150;
const EVENTS_PER_REFRESH = Math.round(50_000 / 60 / 10);
const TOKEN_KEY = 'bench-quality-pass-token-key-0123456789';

interface QualityPassRun {
  historyEvents: number;
  modelRunMs: number[];
  passMs: number[];
  fullPassMs: number;
  rulesEvaluated: number;
}

async function once(run: number, log: (line: string) => void): Promise<QualityPassRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-quality-'));
  const pipeline = await openPipeline({
    dbPath: join(dir, 'q.duckdb'),
    tokenKey: TOKEN_KEY,
    timeZone: 'Europe/Paris',
  });
  try {
    const to = new Date(Date.now() - 3_600_000);
    const from = new Date(to.getTime() - 86_400_000);
    const historyEvents = await deliverAndRun(
      pipeline,
      generateEvents(from, to, { seed: 11 + run, ordersPerDay: HISTORY_ORDERS_PER_DAY }),
    );
    log(`quality-pass run ${run}: ${formatNumber(historyEvents)} history events loaded`);
    const simulator = new TrafficSimulator(new Date(), { seed: 100 + run, ordersPerDay: 60_000 });
    const modelRunMs: number[] = [];
    const passMs: number[] = [];
    for (let i = 0; i < REFRESHES; i++) {
      const items = Array.from({ length: EVENTS_PER_REFRESH }, () => ({
        kind: 'value' as const,
        value: simulator.nextEvent(),
      }));
      await pipeline.deliver(items, { sourceKind: 'bench' });
      const result = await pipeline.loop.refresh();
      const pass = pipeline.quality.lastPass;
      if (result && pass && pass.mode === 'incremental') {
        modelRunMs.push(result.durationMs);
        passMs.push(pass.durationMs);
      }
    }
    pipeline.quality.runner?.requestFull();
    await pipeline.loop.refresh();
    const full = pipeline.quality.lastPass;
    return {
      historyEvents,
      modelRunMs,
      passMs,
      fullPassMs: full?.durationMs ?? Number.NaN,
      rulesEvaluated: full?.evaluated ?? 0,
    };
  } finally {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runQualityPassBenchmark(options: QualityPassOptions): Promise<BenchmarkResult> {
  const runs: QualityPassRun[] = [];
  for (let i = 1; i <= options.runs; i++) {
    const run = await once(i, options.log);
    options.log(
      `quality-pass run ${i}/${options.runs}: incremental pass p50 ${formatMs(percentile(run.passMs, 50))}, ` +
        `p95 ${formatMs(percentile(run.passMs, 95))}; model run p50 ${formatMs(percentile(run.modelRunMs, 50))}; ` +
        `full pass ${formatMs(run.fullPassMs)} (${run.rulesEvaluated} rules)`,
    );
    runs.push(run);
  }
  const at = (pick: (r: QualityPassRun) => number[], q: number) => runs.map((r) => percentile(pick(r), q));
  return {
    name: 'quality-pass',
    title: 'Quality rules: one incremental pass after a refresh',
    method:
      `The pipeline in the bench process on a fresh DuckDB file holding one generated day ` +
      `(${formatNumber(HISTORY_ORDERS_PER_DAY)} orders), then ${REFRESHES} refreshes of ${EVENTS_PER_REFRESH} ` +
      `generated events each (100 ms of 50,000 events a minute); each refresh runs the models, then the ` +
      `quality rules on the rows the run wrote. Baseline: the model run of the same refresh. The full pass ` +
      `(every rule on every row, as at start, daily and on demand) is timed once at the end of each run.`,
    figures: [
      {
        label: 'Incremental quality pass p50',
        values: at((r) => r.passMs, 50),
        format: formatMs,
        baseline: { label: 'model run p50', values: at((r) => r.modelRunMs, 50), format: formatMs },
      },
      {
        label: 'Incremental quality pass p95',
        values: at((r) => r.passMs, 95),
        format: formatMs,
        baseline: { label: 'model run p95', values: at((r) => r.modelRunMs, 95), format: formatMs },
      },
      { label: 'Full pass (every rule, every row)', values: runs.map((r) => r.fullPassMs), format: formatMs },
    ],
    notes: [
      `Rules evaluated by the full pass: ${runs[0]?.rulesEvaluated ?? 0}. History events per run: ${formatNumber(runs[0]?.historyEvents ?? 0)}.`,
      'Measured in one process with no HTTP load; the machine is shared, so figures are indicative.',
    ],
    runs: runs.map((r) => ({
      ...r,
      modelRunMs: undefined,
      passMs: undefined,
      passP50: percentile(r.passMs, 50),
    })),
    discarded: [],
  };
}
