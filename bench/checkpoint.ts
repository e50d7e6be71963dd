/**
 * What a checkpoint costs when the warehouse already holds a day and a half of the company's
 * traffic, against the same checkpoints on an empty warehouse (the baseline, run beside it).
 * DuckDB checkpoints when the WAL reaches `checkpoint_threshold`, inside the commit that crossed
 * it, and the commits behind it wait: its duration is a stall of ingest and of every KPI's
 * freshness. A cost that grows with history (an index written out whole) grows the stall.
 *
 * The generated events of 36 hours go through the pipeline once (the seed). Each run copies the
 * seed (or starts empty), then 8 times commits the next 10,000 generated events, 1,000 a request
 * as producers send them, and checkpoints, timing the commits and the checkpoint. It also times
 * opening the pipeline with the stored events' keys read back, as `pulse start` does.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPipeline } from '../src/app.js';
import { generateEvents } from '../src/generator/index.js';
import { deliverAndRun } from './deliver-events.js';
import type { BenchmarkResult } from './report.js';
import { seededPairs } from './seeded-pairs.js';
import { formatMs, formatNumber, median } from './stats.js';

export interface CheckpointOptions {
  readonly runs: number;
  readonly log: (line: string) => void;
}

const ORDERS_PER_DAY = 60_000;
const SEED_HOURS = 36;
const ROUNDS = 8;
const EVENTS_PER_ROUND = 10_000;
const EVENTS_PER_REQUEST = 1_000;
const TOKEN_KEY = 'bench-checkpoint-token-key-0123456789abcdef';

type Batch = { kind: 'value'; value: unknown }[];

interface Run {
  readonly openMs: number;
  readonly checkpointMs: number[];
  /** Commit time of each round's 10,000 events. */
  readonly commitMs: number[];
}

/** The seed's events committed and run once; returns the next events, in requests of 1,000. */
async function buildSeed(path: string, log: (line: string) => void): Promise<Batch[]> {
  const started = performance.now();
  const end = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const seedEvents = generateEvents(new Date(end.getTime() - SEED_HOURS * 3_600_000), end, {
    seed: 29,
    ordersPerDay: ORDERS_PER_DAY,
  });
  // The timed events follow the seed, from another seed of the generator (other ids): no model
  // runs, so which orders they touch does not matter, and at night an hour holds too few.
  const wanted = ROUNDS * EVENTS_PER_ROUND;
  const next: unknown[] = [];
  for (const event of generateEvents(end, new Date(end.getTime() + 24 * 3_600_000), {
    seed: 31,
    ordersPerDay: ORDERS_PER_DAY,
  })) {
    if (next.push(event) === wanted) break;
  }
  const pipeline = await openPipeline({ dbPath: path, tokenKey: TOKEN_KEY, timeZone: 'Europe/Paris' });
  let events: number;
  try {
    events = await deliverAndRun(pipeline, seedEvents);
  } finally {
    await pipeline.close();
  }
  if (next.length < wanted) throw new Error(`checkpoint: only ${next.length} events after the seed`);
  log(
    `checkpoint: seed of ${formatNumber(events)} events built in ` +
      `${formatNumber((performance.now() - started) / 1000, 1)} s`,
  );
  const requests: Batch[] = [];
  for (let i = 0; i < wanted; i += EVENTS_PER_REQUEST) {
    requests.push(next.slice(i, i + EVENTS_PER_REQUEST).map((value) => ({ kind: 'value' as const, value })));
  }
  return requests;
}

async function once(seed: string | undefined, requests: readonly Batch[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-checkpoint-'));
  const path = join(dir, 'run.duckdb');
  if (seed) copyFileSync(seed, path);
  const opening = performance.now();
  const pipeline = await openPipeline({ dbPath: path, tokenKey: TOKEN_KEY, timeZone: 'Europe/Paris' });
  // As `pulse start` does before it serves.
  await pipeline.writer.loadKeys();
  const openMs = performance.now() - opening;
  try {
    // No model runs: the WAL holds the commits alone, the same in both warehouses.
    await pipeline.loop.stop();
    const checkpointMs: number[] = [];
    const commitMs: number[] = [];
    const perRound = EVENTS_PER_ROUND / EVENTS_PER_REQUEST;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      await Promise.all(
        requests
          .slice(round * perRound, (round + 1) * perRound)
          .map((request) => pipeline.deliver(request, { sourceKind: 'bench' })),
      );
      commitMs.push(performance.now() - started);
      const checkpointing = performance.now();
      await pipeline.warehouse.writer.run('CHECKPOINT');
      checkpointMs.push(performance.now() - checkpointing);
    }
    return { openMs, checkpointMs, commitMs };
  } finally {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCheckpointBenchmark(options: CheckpointOptions): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-checkpoint-seed-'));
  try {
    const seed = join(dir, 'seed.duckdb');
    const requests = await buildSeed(seed, options.log);
    const { seeded, empty } = await seededPairs(
      options.runs,
      seed,
      (copy) => once(copy, requests),
      (i, withHistory, without) => {
        options.log(
          `checkpoint run ${i}/${options.runs}: checkpoint ${formatMs(median(withHistory.checkpointMs))} with ` +
            `history, ${formatMs(median(without.checkpointMs))} empty; 10,000 events committed in ` +
            `${formatMs(median(withHistory.commitMs))} / ${formatMs(median(without.commitMs))}; open ` +
            `${formatMs(withHistory.openMs)} / ${formatMs(without.openMs)}`,
        );
      },
    );
    const figure = (label: string, of: (run: Run) => number) => ({
      label,
      values: seeded.map(of),
      format: formatMs,
      baseline: { label: 'empty warehouse', values: empty.map(of), format: formatMs },
    });
    return {
      name: 'checkpoint',
      title: `A checkpoint with ${SEED_HOURS} hours of history`,
      method:
        `${SEED_HOURS} hours of generated traffic (${formatNumber(ORDERS_PER_DAY)} orders a day) committed ` +
        `once; each run then commits ${ROUNDS} times the next ${formatNumber(EVENTS_PER_ROUND)} events ` +
        `(${formatNumber(EVENTS_PER_REQUEST)} a request, all in flight) and runs CHECKPOINT, on a copy of ` +
        `that warehouse and, alternately, on an empty one (baseline). Median per run of the ${ROUNDS} rounds.`,
      figures: [
        figure('Checkpoint after 10,000 events', (run) => median(run.checkpointMs)),
        figure('Commit of 10,000 events', (run) => median(run.commitMs)),
        figure('Opening the pipeline, keys read back', (run) => run.openMs),
      ],
      notes: ['In the bench process, no model runs: the WAL holds the ingest commits alone.'],
      runs: seeded.map((run, i) => ({ seeded: run, empty: empty[i] })),
      discarded: [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
