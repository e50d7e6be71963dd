import { BENCH_AUTH } from './pulse-process.js';
/**
 * Ingest throughput: events acknowledged per second by a real Pulse (`POST /v1/events`, NDJSON
 * bodies of 1,000 generated events, `concurrency` requests in flight) over `seconds`, after a short
 * warm-up. Every 200 answer counts accepted + duplicates + quarantined; any other answer is counted
 * and reported, never retried.
 *
 * Baseline, measured in the same run: the limit of the first stage alone, JSON.parse of each line
 * of the same bodies on one core of the bench process (no server running), and the ratio
 * ingest ÷ limit.
 */
import { buildEventPool, EVENTS_PER_BODY, measureParseLimit, type EventPool } from './event-pool.js';
import { repeatRuns } from './repeat.js';
import { cpuMeter, startPulseProcess, type ServerStats } from './pulse-process.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult } from './report.js';
import {
  formatMiB,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
  median,
  mergeCounts,
  percentile,
} from './stats.js';
import { authAndMetricsMicros } from './overhead.js';

export interface IngestOptions {
  readonly runs: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly log: (line: string) => void;
}

const WARMUP_SECONDS = 2;
/** Events pre-generated per second of run: 3× the first measured figure (a run that runs out says so). */
const POOL_EVENTS_PER_SECOND = 60_000;
const PARSE_LIMIT_MS = 2_000;
const MAX_NETWORK_ERRORS = 20;

type Receipt = Record<'accepted' | 'duplicates' | 'quarantined', number>;

export interface IngestRun {
  eventsPerSecond: number;
  parseLimitPerSecond: number;
  elapsedSeconds: number;
  /** Requests answered in the measured phase, and the events their 200 answers acknowledged. */
  totals: Receipt & { requests: number };
  nonOk: Record<string, number>;
  nonOkSamples: string[];
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** CPU use in the measured phase, % of one core: the server, the load generator, other processes. */
  cpuPercent: { server: number; bench: number; others: number };
  poolExhausted: boolean;
  server: ServerStats;
  /** CPU µs per request that auth and metrics cost (bench/overhead.ts), measured before the run. */
  authMicros: number;
  metricsMicros: number;
}

async function ingestOnce(pool: EventPool, options: IngestOptions): Promise<IngestRun> {
  const parseLimitPerSecond = measureParseLimit(pool, PARSE_LIMIT_MS);
  const { authMicros, metricsMicros } = await authAndMetricsMicros();
  const pulse = await startPulseProcess();
  const endpoint = `${pulse.url}/v1/events`;
  const latencies: number[] = [];
  const nonOk: Record<string, number> = {};
  const nonOkSamples: string[] = [];
  const totals = { requests: 0, accepted: 0, duplicates: 0, quarantined: 0 };
  let networkErrors = 0;
  let next = 0;
  let poolExhausted = false;
  let lastAnswer = 0;

  const phase = async (seconds: number, record: boolean): Promise<void> => {
    const until = performance.now() + seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < until) {
        const body = pool.bodies[next++];
        if (body === undefined) {
          poolExhausted = true;
          return;
        }
        const sent = performance.now();
        let status: string;
        let text: string;
        try {
          const response = await fetch(endpoint, {
            method: 'POST',
            headers: { ...BENCH_AUTH, 'content-type': 'application/x-ndjson' },
            body,
          });
          status = String(response.status);
          text = await response.text();
        } catch (error) {
          status = 'network error';
          text = error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error);
          if (++networkErrors > MAX_NETWORK_ERRORS)
            throw new Error(`ingest: too many network errors: ${text}`);
        }
        // Non-200 answers count in the warm-up too; events and latencies only in the measured phase.
        if (status !== '200') {
          nonOk[status] = (nonOk[status] ?? 0) + 1;
          if (nonOkSamples.length < 5) nonOkSamples.push(`${status}: ${text.slice(0, 300)}`);
        }
        if (!record) continue;
        lastAnswer = performance.now();
        latencies.push(lastAnswer - sent);
        totals.requests++;
        if (status === '200') {
          const receipt = JSON.parse(text) as Receipt;
          totals.accepted += receipt.accepted;
          totals.duplicates += receipt.duplicates;
          totals.quarantined += receipt.quarantined;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  };

  try {
    await phase(WARMUP_SECONDS, false);
    const cpu = cpuMeter(pulse);
    const started = performance.now();
    lastAnswer = started;
    await phase(options.seconds, true);
    const elapsedSeconds = (lastAnswer - started) / 1000;
    const used = cpu();
    const server = await pulse.stop();
    return {
      eventsPerSecond: (totals.accepted + totals.duplicates + totals.quarantined) / elapsedSeconds,
      parseLimitPerSecond,
      elapsedSeconds,
      totals,
      nonOk,
      nonOkSamples,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      latencyMaxMs: percentile(latencies, 100),
      cpuPercent: used,
      poolExhausted,
      server,
      authMicros,
      metricsMicros,
    };
  } finally {
    await pulse.stop();
  }
}

export async function runIngestBenchmark(options: IngestOptions): Promise<BenchmarkResult> {
  const wanted = Math.ceil((options.seconds + WARMUP_SECONDS) * POOL_EVENTS_PER_SECOND);
  const t0 = performance.now();
  const pool = buildEventPool(wanted);
  options.log(
    `ingest: ${formatNumber(pool.events)} events pre-serialised in ${pool.bodies.length} bodies ` +
      `(${formatMiB(pool.bytes)}, ${formatNumber(pool.bytes / pool.events)} B/event) in ${formatNumber((performance.now() - t0) / 1000, 1)} s`,
  );
  const once = async (i: number): Promise<IngestRun> => {
    const run = await ingestOnce(pool, options);
    options.log(
      `ingest run ${i}/${options.runs}: ${formatRate(run.eventsPerSecond)} (limit ${formatRate(run.parseLimitPerSecond)}), ` +
        `p50 ${formatMs(run.latencyP50Ms)}, p99 ${formatMs(run.latencyP99Ms)}, max ${formatMs(run.latencyMaxMs)}, CPU server/bench/others ${cpuText(run.cpuPercent)}, ` +
        `peak RSS ${formatMiB(run.server.peakRssBytes)}, non-200: ${JSON.stringify(run.nonOk)}`,
    );
    return run;
  };
  const { runs, discarded } = await repeatRuns(options.runs, once, options.log);
  return {
    name: 'ingest',
    title: 'Ingest throughput',
    method:
      `Events acknowledged by 200 answers (accepted + duplicates + quarantined) ÷ elapsed s, posting ` +
      `pre-serialised NDJSON bodies of ${formatNumber(EVENTS_PER_BODY)} generated events ` +
      `(${formatNumber(pool.bytes / pool.events)} B/event on average; generated history at 60,000 orders/day with its late, duplicate and invalid events), ` +
      `${options.concurrency} requests in flight, for ${options.seconds} s after a ${WARMUP_SECONDS} s warm-up, ` +
      `on a fresh DuckDB file each run. Baseline: JSON.parse of each line of the same bodies on one core of the bench process (server not running).`,
    figures: [
      {
        label: 'Events acknowledged / s',
        values: runs.map((r) => r.eventsPerSecond),
        format: formatRate,
        baseline: {
          label: 'JSON.parse limit',
          values: runs.map((r) => r.parseLimitPerSecond),
          format: formatRate,
        },
      },
      { label: 'POST latency p50', values: runs.map((r) => r.latencyP50Ms), format: formatMs },
      { label: 'POST latency p99', values: runs.map((r) => r.latencyP99Ms), format: formatMs },
      { label: 'POST latency max', values: runs.map((r) => r.latencyMaxMs), format: formatMs },
      {
        label: 'Server CPU (100 % = 1 core)',
        values: runs.map((r) => r.cpuPercent.server),
        format: formatPercent,
      },
      { label: 'Load generator CPU', values: runs.map((r) => r.cpuPercent.bench), format: formatPercent },
      { label: 'Other processes CPU', values: runs.map((r) => r.cpuPercent.others), format: formatPercent },
      { label: 'Server peak RSS', values: runs.map((r) => r.server.peakRssBytes), format: formatMiB },
      {
        label: 'Auth + metrics CPU per request',
        values: runs.map((r) => r.authMicros + r.metricsMicros),
        format: formatMicros,
        baseline: {
          label: 'server CPU per request',
          values: runs.map(serverMicrosPerRequest),
          format: formatMicros,
        },
        goal: { label: '≤ 5 % of a request', met: (ratio) => ratio <= 0.05, on: 'ratio' },
      },
    ],
    notes: ingestNotes(runs, discarded),
    runs,
    discarded,
  };
}

/** Server CPU one acknowledged request cost in the measured phase, µs. */
function serverMicrosPerRequest(run: IngestRun): number {
  return ((run.cpuPercent.server / 100) * run.elapsedSeconds * 1e6) / Math.max(1, run.totals.requests);
}

function formatMicros(value: number): string {
  return value >= 1000 ? formatMs(value / 1000) : `${formatNumber(value, value < 10 ? 2 : 0)} µs`;
}

function ingestNotes(runs: readonly IngestRun[], discarded: readonly IngestRun[]): string[] {
  const notes: string[] = [];
  const t = mergeCounts(runs.map((r) => r.totals));
  notes.push(
    `${formatNumber(t.requests ?? 0)} requests over ${runs.length} runs; events acknowledged: ` +
      `${formatNumber(t.accepted ?? 0)} accepted, ${formatNumber(t.duplicates ?? 0)} duplicates, ` +
      `${formatNumber(t.quarantined ?? 0)} quarantined.`,
  );
  const nonOk = mergeCounts(runs.map((r) => r.nonOk));
  notes.push(
    `Auth + metrics: the CPU Pulse's auth hook adds to an injected request (Fastify app with and without it, ` +
      `bench/overhead.ts; median ${formatMicros(median(runs.map((r) => r.authMicros)))}) plus the three counter ` +
      `increments an ingest request makes (${formatMicros(median(runs.map((r) => r.metricsMicros)))}), against the ` +
      `server CPU of one real request of ${formatNumber(EVENTS_PER_BODY)} events in the same run.`,
  );
  notes.push(
    Object.keys(nonOk).length === 0
      ? 'Non-200 answers: none.'
      : `Non-200 answers (not retried, not counted): ${JSON.stringify(nonOk)}; first: ${runs.flatMap((r) => r.nonOkSamples)[0] ?? ''}`,
  );
  const exhausted = runs.filter((r) => r.poolExhausted).length;
  if (exhausted > 0)
    notes.push(`The pre-generated pool ran out in ${exhausted} run(s): the run was shorter.`);
  return [
    ...notes,
    ...busyNotes(
      runs.map((r) => r.cpuPercent),
      discarded.map((r) => r.cpuPercent),
    ),
    ...serverNotes(runs.map((r) => r.server)),
  ];
}
