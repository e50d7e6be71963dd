/**
 * Lineage emission: what OpenLineage events cost a model run. In each run a fresh pipeline (in the
 * bench process, on a fresh DuckDB file) loads a day of generated history and builds the models;
 * then 20 incremental refreshes, each after a batch of 1,000 new events, alternate between the
 * runner with the OpenLineage emitter (NDJSON file) and without it (the baseline), so both see
 * the same warehouse size and machine load. Figures: median refresh duration of each, the delivery
 * time of a run's events (in the background, off the run), and the one-off lineage derivation.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPipeline } from '../src/app.js';
import { generateEvents } from '../src/generator/index.js';
import { OpenLineageEmitter, projectLineage } from '../src/lineage/index.js';
import type { BenchmarkResult } from './report.js';
import { formatMs, formatNumber, median } from './stats.js';

export interface LineageEmissionOptions {
  readonly runs: number;
  readonly log: (line: string) => void;
}

interface LineageEmissionRun {
  withEmissionMs: number;
  withoutEmissionMs: number;
  deliveryMs: number;
  deriveMs: number;
  eventsPerRun: number;
  bytesPerRun: number;
}

const PAIRS = 10;
const BATCH = 1_000;

async function oneRun(seed: number): Promise<LineageEmissionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-lineage-'));
  const pipeline = await openPipeline({
    dbPath: join(dir, 'bench.duckdb'),
    tokenKey: 'bench-token-key-0123456789',
    ingestWorkers: 0,
  });
  try {
    await pipeline.loop.stop();
    const events = [
      ...generateEvents(new Date('2026-03-01T00:00:00Z'), new Date('2026-03-03T00:00:00Z'), {
        seed,
        ordersPerDay: 3_000,
      }),
    ];
    const history = events.length - PAIRS * 2 * BATCH;
    await pipeline.deliver(
      events.slice(0, history).map((value) => ({ kind: 'value', value })),
      { sourceKind: 'bench' },
    );
    await pipeline.runner.run({ full: true });
    const deriveStarted = performance.now();
    const graph = await projectLineage()();
    const deriveMs = performance.now() - deriveStarted;
    const file = join(dir, 'openlineage.ndjson');
    const emitter = new OpenLineageEmitter(
      { file },
      {
        warehousePath: join(dir, 'bench.duckdb'),
        graph,
        producer: 'https://example.org/pulse-bench',
        log: () => undefined,
      },
    );
    const withEmission: number[] = [];
    const without: number[] = [];
    const delivery: number[] = [];
    let emittedRuns = 0;
    let next = history;
    for (let i = 0; i < PAIRS * 2; i += 1) {
      await pipeline.deliver(
        events.slice(next, next + BATCH).map((value) => ({ kind: 'value', value })),
        { sourceKind: 'bench' },
      );
      next += BATCH;
      const emit = i % 2 === 0;
      const started = performance.now();
      await pipeline.runner.run(emit ? { observer: emitter } : {});
      const ran = performance.now() - started;
      if (emit) {
        withEmission.push(ran);
        const flushStarted = performance.now();
        await emitter.flush();
        delivery.push(performance.now() - flushStarted);
        emittedRuns += 1;
      } else {
        without.push(ran);
      }
    }
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    return {
      withEmissionMs: median(withEmission),
      withoutEmissionMs: median(without),
      deliveryMs: median(delivery),
      deriveMs,
      eventsPerRun: lines / emittedRuns,
      bytesPerRun: statSync(file).size / emittedRuns,
    };
  } finally {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runLineageEmissionBenchmark(options: LineageEmissionOptions): Promise<BenchmarkResult> {
  const runs: LineageEmissionRun[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const run = await oneRun(100 + i);
    options.log(
      `lineage run ${i + 1}: ${formatMs(run.withEmissionMs)} with emission, ${formatMs(run.withoutEmissionMs)} without`,
    );
    runs.push(run);
  }
  const pick = (key: keyof LineageEmissionRun) => runs.map((run) => run[key]);
  return {
    name: 'lineage-emission',
    title: 'OpenLineage emission',
    method:
      'Incremental refresh after each batch of 1,000 generated events over a day of history (3,000 orders/day), ' +
      `${PAIRS} refreshes with the OpenLineage emitter (NDJSON file) alternating with ${PAIRS} without, in the bench process. ` +
      'Baseline: the refreshes without emission in the same run.',
    figures: [
      {
        label: 'Refresh duration p50',
        values: pick('withEmissionMs'),
        format: formatMs,
        baseline: { label: 'without emission', values: pick('withoutEmissionMs'), format: formatMs },
      },
      { label: 'Event delivery per run (background)', values: pick('deliveryMs'), format: formatMs },
      { label: 'Lineage derivation (once per process)', values: pick('deriveMs'), format: formatMs },
      { label: 'Events per run', values: pick('eventsPerRun'), format: (value) => formatNumber(value) },
      {
        label: 'Bytes per run',
        values: pick('bytesPerRun'),
        format: (value) => `${formatNumber(value / 1024)} KiB`,
      },
    ],
    notes: [],
    runs,
    discarded: [],
  };
}
