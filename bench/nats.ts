/**
 * Scale-out over NATS JetStream, two pairs of figures measured side by side in each run:
 *
 * 1. Consume throughput: a stream pre-filled with N generated events (one message each) is drained
 *    by a real `pulse worker` (child process, fresh DuckDB) to commit; elapsed from its "Consuming"
 *    line until the durable consumer has nothing pending or unacknowledged (acks follow commits).
 *    Baseline: the same messages drained by the same NatsSource with a `deliver` that commits
 *    nothing (parse + ack only), in the bench process.
 * 2. Ingest: the same NDJSON bodies posted to a `pulse gateway` (2xx once JetStream has acked every
 *    event) and, as the baseline, directly to `pulse start` (2xx once DuckDB committed), with the
 *    same concurrency.
 *
 * Needs the NATS server at PULSE_BENCH_NATS_URL (default nats://127.0.0.1:4222); streams are named
 * per run and deleted after.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { NatsSource } from '../src/sources/nats/index.js';
import { buildEventPool, EVENTS_PER_BODY, type EventPool } from './event-pool.js';
import { BENCH_AUTH, BENCH_TOKEN_KEY, pulseBin, pulseEnv, startPulseProcess } from './pulse-process.js';
import { generateKey } from '../src/security/index.js';
import type { BenchmarkResult } from './report.js';
import { formatRate, formatRatio } from './stats.js';

export interface NatsBenchOptions {
  readonly runs: number;
  readonly concurrency: number;
  readonly log: (line: string) => void;
}

const NATS_URL = process.env.PULSE_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const CONSUME_EVENTS = 50_000;
const INGEST_BODIES = 60;
const READY_TIMEOUT_MS = 90_000;
const DRAIN_TIMEOUT_MS = 600_000;

interface NatsRun {
  workerEventsPerSecond: number;
  rawEventsPerSecond: number;
  gatewayEventsPerSecond: number;
  directEventsPerSecond: number;
  gatewayNon2xx: number;
  directNon2xx: number;
}

export async function runNatsBenchmark(options: NatsBenchOptions): Promise<BenchmarkResult> {
  const { log } = options;
  log('nats: building the event pool…');
  const pool = buildEventPool(Math.max(CONSUME_EVENTS, INGEST_BODIES * EVENTS_PER_BODY));
  const messages = pool.bodies
    .flatMap((body) => body.toString('utf8').split('\n'))
    .filter((line) => line.length > 0)
    .slice(0, CONSUME_EVENTS);
  const nc = await connect({ servers: NATS_URL, name: 'pulse-bench' });
  const runs: NatsRun[] = [];
  try {
    for (let run = 1; run <= options.runs; run += 1) {
      const consume = await consumeOnce(nc, messages, log);
      const ingest = await ingestOnce(pool, options.concurrency, log);
      runs.push({ ...consume, ...ingest });
      log(
        `nats run ${run}: worker ${consume.workerEventsPerSecond.toFixed(0)} ev/s vs raw ${consume.rawEventsPerSecond.toFixed(0)}; ` +
          `gateway ${ingest.gatewayEventsPerSecond.toFixed(0)} ev/s vs direct ${ingest.directEventsPerSecond.toFixed(0)}`,
      );
    }
  } finally {
    await nc.close();
  }
  const rate = (value: number) => formatRate(value);
  return {
    name: 'nats',
    title: 'NATS scale-out',
    method:
      `Consume: ${messages.length.toLocaleString('en')} generated events pre-published one per message, drained by a \`pulse worker\` to commit (fresh DuckDB); ` +
      'baseline: the same messages through the same NATS source with a deliver that commits nothing (parse + ack). ' +
      `Ingest: ${INGEST_BODIES} NDJSON bodies of ${EVENTS_PER_BODY} events, ${options.concurrency} in flight, to a \`pulse gateway\` (2xx after JetStream acks) ` +
      'vs the same bodies to `pulse start` (2xx after the DuckDB commit). The machine is shared and busy: indicative figures; runs are not filtered for load.',
    figures: [
      {
        label: 'Worker consume to commit',
        values: runs.map((r) => r.workerEventsPerSecond),
        format: rate,
        baseline: {
          label: 'Raw consume, no pipeline',
          values: runs.map((r) => r.rawEventsPerSecond),
          format: rate,
        },
      },
      {
        label: 'Gateway ingest (acked by JetStream)',
        values: runs.map((r) => r.gatewayEventsPerSecond),
        format: rate,
        baseline: {
          label: 'Direct HTTP ingest (committed)',
          values: runs.map((r) => r.directEventsPerSecond),
          format: rate,
        },
      },
    ],
    notes: [
      `Non-2xx answers: gateway ${runs.reduce((s, r) => s + r.gatewayNon2xx, 0)}, direct ${runs.reduce((s, r) => s + r.directNon2xx, 0)}.`,
      `Ratios (median run): worker ÷ raw ${formatRatio(median(runs.map((r) => r.workerEventsPerSecond / r.rawEventsPerSecond)))}, gateway ÷ direct ${formatRatio(median(runs.map((r) => r.gatewayEventsPerSecond / r.directEventsPerSecond)))}.`,
      'One NATS server (R1), the gateway and the worker on the same 2 cores as the load generator.',
    ],
    runs,
    discarded: [],
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function names() {
  const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
  return { stream: `PULSE_BENCH_${tag}`, subject: `pulse-bench.${tag}` };
}

async function prefill(
  nc: NatsConnection,
  stream: string,
  subject: string,
  lines: readonly string[],
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  const js = jetstream(nc);
  const h = headers();
  h.set('content-type', 'application/cloudevents+json');
  for (let i = 0; i < lines.length; i += 1_000) {
    await Promise.all(
      lines.slice(i, i + 1_000).map((line) => js.publish(`${subject}.events`, line, { headers: h })),
    );
  }
}

async function drained(nc: NatsConnection, stream: string, durable: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (info && info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0) return;
    if (Date.now() > deadline) throw new Error(`consumer ${durable} did not drain`);
    await sleep(20);
  }
}

async function consumeOnce(
  nc: NatsConnection,
  lines: readonly string[],
  log: (line: string) => void,
): Promise<{ workerEventsPerSecond: number; rawEventsPerSecond: number }> {
  const { stream, subject } = names();
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-nats-'));
  try {
    log(`nats: pre-filling ${stream} with ${lines.length} messages…`);
    await prefill(nc, stream, subject, lines);
    const natsConfig = {
      servers: [NATS_URL],
      stream,
      subjects: [`${subject}.>`],
      batch: 1000,
      max_ack_pending: 4000,
      create_stream: false,
    };
    // Baseline: the source alone, nothing committed.
    const raw = new NatsSource({
      servers: [NATS_URL],
      stream,
      subjects: [`${subject}.>`],
      durable: 'raw',
      createStream: false,
      replicas: 1,
      batch: 1000,
      maxAckPending: 4000,
      ackWaitMs: 60_000,
      nakDelayMs: 1_000,
    });
    const rawStarted = performance.now();
    await raw.start(async (items) => ({
      batch_id: 'raw',
      accepted: items.length,
      duplicates: 0,
      quarantined: 0,
      quarantined_events: [],
    }));
    await drained(nc, stream, 'raw');
    const rawSeconds = (performance.now() - rawStarted) / 1000;
    await raw.stop();

    // The worker: a real process, fresh warehouse.
    const key = generateKey('bench', ['admin']).stored;
    writeFileSync(
      join(dir, 'worker.yaml'),
      JSON.stringify({
        log_level: 'warn',
        privacy: { token_key: BENCH_TOKEN_KEY },
        auth: { keys: [{ id: key.id, name: 'bench', sha256: key.sha256, roles: ['admin'] }] },
        sources: { nats: { ...natsConfig, durable: 'worker' } },
      }),
    );
    const child = spawn(
      process.execPath,
      [
        pulseBin(),
        'worker',
        '--config',
        join(dir, 'worker.yaml'),
        '--db',
        join(dir, 'w.duckdb'),
        '--port',
        '0',
      ],
      { env: pulseEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let text = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const readyBy = Date.now() + READY_TIMEOUT_MS;
    while (!/Consuming stream/.test(text)) {
      if (child.exitCode !== null || Date.now() > readyBy)
        throw new Error(`pulse worker did not start: ${text}`);
      await sleep(10);
    }
    const workerStarted = performance.now();
    await drained(nc, stream, 'worker');
    const workerSeconds = (performance.now() - workerStarted) / 1000;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    return {
      workerEventsPerSecond: lines.length / workerSeconds,
      rawEventsPerSecond: lines.length / rawSeconds,
    };
  } finally {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postAll(
  url: string,
  bodies: readonly Buffer[],
  concurrency: number,
  auth: Record<string, string>,
): Promise<{ eventsPerSecond: number; non2xx: number }> {
  let next = 0;
  let events = 0;
  let non2xx = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let body = bodies[next++]; body !== undefined; body = bodies[next++]) {
        const response = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', ...auth },
          body,
        });
        const receipt = (await response.json()) as Record<string, number>;
        if (response.status === 200 || response.status === 422)
          events += (receipt.accepted ?? 0) + (receipt.duplicates ?? 0) + (receipt.quarantined ?? 0);
        else non2xx += 1;
      }
    }),
  );
  return { eventsPerSecond: events / ((performance.now() - started) / 1000), non2xx };
}

async function ingestOnce(
  pool: EventPool,
  concurrency: number,
  log: (line: string) => void,
): Promise<{
  gatewayEventsPerSecond: number;
  directEventsPerSecond: number;
  gatewayNon2xx: number;
  directNon2xx: number;
}> {
  const bodies = pool.bodies.slice(0, INGEST_BODIES);
  log('nats: direct ingest to pulse start…');
  const direct = await startPulseProcess();
  let directResult;
  try {
    directResult = await postAll(direct.url, bodies, concurrency, BENCH_AUTH);
  } finally {
    await direct.stop();
  }
  log('nats: ingest through pulse gateway…');
  const { stream, subject } = names();
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-gw-'));
  const key = generateKey('bench', ['ingest']);
  writeFileSync(
    join(dir, 'gateway.yaml'),
    JSON.stringify({
      log_level: 'warn',
      auth: { keys: [{ id: key.stored.id, name: 'bench', sha256: key.stored.sha256, roles: ['ingest'] }] },
      sources: { nats: { servers: [NATS_URL], stream, subjects: [`${subject}.>`] } },
      gateway: { subject_prefix: subject },
    }),
  );
  const env = pulseEnv();
  delete env.PULSE_TOKEN_KEY;
  const child = spawn(
    process.execPath,
    [pulseBin(), 'gateway', '--config', join(dir, 'gateway.yaml'), '--port', '0'],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  try {
    const readyBy = Date.now() + READY_TIMEOUT_MS;
    let match: RegExpMatchArray | null;
    while (!(match = text.match(/running on (http:\/\/\S+),/))) {
      if (child.exitCode !== null || Date.now() > readyBy)
        throw new Error(`pulse gateway did not start: ${text}`);
      await sleep(10);
    }
    const gatewayResult = await postAll(match[1]!, bodies, concurrency, {
      authorization: `Bearer ${key.key}`,
    });
    return {
      gatewayEventsPerSecond: gatewayResult.eventsPerSecond,
      directEventsPerSecond: directResult.eventsPerSecond,
      gatewayNon2xx: gatewayResult.non2xx,
      directNon2xx: directResult.non2xx,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
