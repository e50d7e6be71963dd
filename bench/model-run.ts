/**
 * What one incremental model run costs when the warehouse already holds a day and a half of the
 * company's traffic, against the same runs on an empty warehouse (the baseline, run beside it).
 * The refresh loop runs the models after every commit, so this is the largest fixed cost of the
 * freshness of a KPI; here it is measured alone, without the HTTP server or the live values.
 *
 * The generated events of 36 hours go through the pipeline once (the seed). Each run copies the
 * seed (or starts empty), then 60 times commits the next 170 generated events (what 200 ms bring
 * at the thesis load of 50,000 events a minute) and runs the models, one DuckDB thread, timing
 * each run and each model. With `--refresh-events N` above 1,000 (a refresh under a heavy load,
 * 40,000 being a second of the ingest bench), it commits N events 5 times instead, taken from the
 * last 12 hours of the stretch.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPipeline } from '../src/app.js';
import { generateEvents } from '../src/generator/index.js';
import { deliverAndRun } from './deliver-events.js';
import type { BenchmarkResult } from './report.js';
import { seededPairs } from './seeded-pairs.js';
import { formatMs, formatNumber, percentile } from './stats.js';

export interface ModelRunOptions {
  readonly runs: number;
  /** Events committed before each model run (170: 200 ms at the thesis load). */
  readonly refreshEvents?: number;
  readonly log: (line: string) => void;
}

const ORDERS_PER_DAY = 60_000;
const HISTORY_MS = 36 * 3_600_000;
const EVENTS_PER_REFRESH = 170;

/** How many refreshes of how many events, and from how far before the end of the stretch they come. */
interface Plan {
  readonly refreshes: number;
  readonly events: number;
  /** The timed runs' events come from this last part of the generated stretch, the seed from the rest. */
  readonly timedFromEndMs: number;
}

function planOf(refreshEvents: number): Plan {
  // Large refreshes need more than the last hour: the six hours of a night held 158,000 events.
  return refreshEvents > 1_000
    ? { refreshes: 5, events: refreshEvents, timedFromEndMs: 12 * 3_600_000 }
    : { refreshes: 60, events: refreshEvents, timedFromEndMs: 3_600_000 };
}

const seedHours = (plan: Plan): number => (HISTORY_MS - plan.timedFromEndMs) / 3_600_000;
const TOKEN_KEY = 'bench-model-run-token-key-0123456789abcdef';
/** The models whose share is reported on its own (the largest on a day of history). */
const NAMED = ['fact_order', 'fact_shipment', 'dim_customer', 'silver_order_lines'] as const;

type Batch = { kind: 'value'; value: unknown }[];

interface Run {
  readonly totalMs: number[];
  readonly modelMs: Map<string, number[]>;
}

/** The seed's events, committed in batches of 10,000 and run once; returns the next events. */
async function buildSeed(path: string, plan: Plan, log: (line: string) => void): Promise<Batch[]> {
  const wanted = plan.refreshes * plan.events;
  const started = performance.now();
  const end = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
  // An hour before the end: the runs' 10,200 events must come after it at any time of day (ten
  // minutes of the night's traffic held about 7,500).
  const cut = end.getTime() - plan.timedFromEndMs;
  const next: unknown[] = [];
  // The events before the cut go into the seed; the ones after it, as many as the runs commit, are kept.
  function* seedEvents(): Generator<unknown> {
    const events = generateEvents(new Date(end.getTime() - HISTORY_MS), end, {
      seed: 23,
      ordersPerDay: ORDERS_PER_DAY,
    });
    for (const event of events) {
      if (Date.parse(event.time ?? end.toISOString()) < cut) yield event;
      else if (next.push(event) === wanted) return;
    }
  }
  const pipeline = await openPipeline({ dbPath: path, tokenKey: TOKEN_KEY, timeZone: 'Europe/Paris' });
  let events: number;
  try {
    events = await deliverAndRun(pipeline, seedEvents());
  } finally {
    await pipeline.close();
  }
  if (next.length < wanted) throw new Error(`model-run: only ${next.length} events after the seed`);
  log(
    `model-run: seed of ${formatNumber(events)} events (${seedHours(plan)} h) built in ` +
      `${formatNumber((performance.now() - started) / 1000, 1)} s`,
  );
  return Array.from({ length: plan.refreshes }, (_, i) =>
    next.slice(i * plan.events, (i + 1) * plan.events).map((value) => ({ kind: 'value' as const, value })),
  );
}

async function once(seed: string | undefined, chunks: readonly Batch[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-model-run-'));
  const path = join(dir, 'run.duckdb');
  if (seed) copyFileSync(seed, path);
  const pipeline = await openPipeline({
    dbPath: path,
    tokenKey: TOKEN_KEY,
    timeZone: 'Europe/Paris',
    threads: 1,
  });
  try {
    // The bench runs the models itself, after each commit, as the loop would without its debounce.
    await pipeline.loop.stop();
    await pipeline.runner.run({ trigger: 'bench' });
    const totalMs: number[] = [];
    const modelMs = new Map<string, number[]>();
    for (const chunk of chunks) {
      await pipeline.deliver(chunk, { sourceKind: 'bench' });
      const started = performance.now();
      const result = await pipeline.runner.run({ trigger: 'bench' });
      totalMs.push(performance.now() - started);
      for (const model of result.models) {
        const list = modelMs.get(model.model) ?? [];
        list.push(model.durationMs);
        modelMs.set(model.model, list);
      }
    }
    return { totalMs, modelMs };
  } finally {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

export async function runModelRunBenchmark(options: ModelRunOptions): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-model-run-seed-'));
  try {
    const seed = join(dir, 'seed.duckdb');
    const plan = planOf(options.refreshEvents ?? EVENTS_PER_REFRESH);
    const chunks = await buildSeed(seed, plan, options.log);
    const { seeded, empty } = await seededPairs(
      options.runs,
      seed,
      (copy) => once(copy, chunks),
      (i, withHistory, without) => {
        options.log(
          `model-run run ${i}/${options.runs}: mean ${formatMs(mean(withHistory.totalMs))} with history, ` +
            `${formatMs(mean(without.totalMs))} empty; ` +
            NAMED.map((name) => `${name} ${formatMs(mean(withHistory.modelMs.get(name) ?? [0]))}`).join(', '),
        );
      },
    );
    const of = (runs: readonly Run[], name?: string): number[] =>
      runs.map((run) => mean(name ? (run.modelMs.get(name) ?? [0]) : run.totalMs));
    return {
      name: 'model-run',
      title: `One incremental model run after ${formatNumber(plan.events)} events with ${seedHours(plan)} hours of history`,
      method:
        `${seedHours(plan)} hours of generated traffic (${formatNumber(ORDERS_PER_DAY)} orders a day) committed ` +
        `once; each run then commits ${plan.refreshes} times the next ${formatNumber(plan.events)} events and runs the models ` +
        `(one DuckDB thread), on a copy of that warehouse and, alternately, on an empty one (baseline).`,
      figures: [
        {
          label: 'Mean model run',
          values: of(seeded),
          format: formatMs,
          baseline: { label: 'empty warehouse', values: of(empty), format: formatMs },
        },
        {
          label: 'p95 model run',
          values: seeded.map((run) => percentile(run.totalMs, 95)),
          format: formatMs,
          baseline: {
            label: 'empty warehouse',
            values: empty.map((run) => percentile(run.totalMs, 95)),
            format: formatMs,
          },
        },
        ...NAMED.map((name) => ({
          label: `Mean ${name}`,
          values: of(seeded, name),
          format: formatMs,
          baseline: { label: 'empty warehouse', values: of(empty, name), format: formatMs },
        })),
      ],
      notes: [
        'In the bench process, models run by the bench after each commit (no HTTP server, no live values).',
      ],
      runs: seeded.map((run, i) => ({
        seededMeanMs: mean(run.totalMs),
        emptyMeanMs: mean((empty[i] as Run).totalMs),
        models: Object.fromEntries([...run.modelMs].map(([name, values]) => [name, mean(values)])),
      })),
      discarded: [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
