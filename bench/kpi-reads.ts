/**
 * KPI reads: `GET /v1/kpis` from 50 keep-alive connections, one request in flight on each, for 10 s,
 * while the thesis background load (50,000 generated events a minute) runs, on a fresh Pulse each
 * run: requests answered per second and the latency of each (p50, p99). Client: wrk (wrk-load.ts), a
 * process of its own, or node:http's `request` (http-load.ts) where wrk is not installed.
 *
 * Baseline, in the same run, before Pulse starts: the same client for the same time against a bare
 * `http.createServer` on a worker thread of the bench process answering a fixed JSON body of about
 * the size of Pulse's answer: what this client and Node's HTTP stack reach here, the ceiling.
 */
import { backgroundSimulator, liveLines, startBackgroundLoad } from './background-load.js';
import { readLoad, startBaselineServer, type Reads } from './http-load.js';
import { bodyBytesOf, wrkAvailable, wrkLoad, type WrkReads } from './wrk-load.js';
import { BACKGROUND_PER_SECOND, BACKGROUND_TICK_MS } from './freshness.js';
import {
  BENCH_AUTH,
  cpuMeter,
  machineBusySeconds,
  startPulseProcess,
  type ServerStats,
} from './pulse-process.js';
import { repeatRuns } from './repeat.js';
import { busyNotes, cpuText, serverNotes, type BenchmarkResult } from './report.js';
import { formatMiB, formatMs, formatNumber, formatPercent, formatRate, mergeCounts } from './stats.js';

export interface KpiReadsOptions {
  readonly runs: number;
  readonly log: (line: string) => void;
}

const CONNECTIONS = 50;
const SECONDS = 10;
const WARMUP_SECONDS = 2;
const BODY_BYTES = 4_400;
const PATH = '/v1/kpis';
const SEED = 11;
/** prom-client's event-loop monitor resolution (eventLoopMonitoringPrecision, its default). */
const MONITOR_RESOLUTION_MS = 10;

export interface KpiReadsRun {
  pulse: Reads;
  baseline: Reads;
  backgroundPerSecond: number;
  backgroundNonOk: Readonly<Record<string, number>>;
  cpuPercent: { server: number; bench: number; others: number };
  /** Other processes' CPU during the baseline phase, % of one core. */
  baselineOthersPercent: number;
  /** The server's main-thread event-loop delay while the reads ran (ms). */
  eventLoopDelay: { p50Ms: number; p99Ms: number };
  server: ServerStats;
}

/**
 * The server's event-loop delay since its previous scrape (prom-client's default metrics reset
 * their histogram at each one): how long a ready request may wait for the one main thread.
 */
async function eventLoopDelay(url: string): Promise<{ p50Ms: number; p99Ms: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: BENCH_AUTH })).text();
  const valueMs = (quantile: string): number => {
    const match = new RegExp(`^pulse_process_nodejs_eventloop_lag_${quantile}_seconds (\\S+)$`, 'm').exec(
      text,
    );
    // The histogram holds the intervals of a 10 ms timer: the delay is what exceeds the 10 ms.
    return match ? Number(match[1]) * 1000 - MONITOR_RESOLUTION_MS : Number.NaN;
  };
  return { p50Ms: valueMs('p50'), p99Ms: valueMs('p99') };
}

/** wrk where it is installed; node:http's client otherwise (a lower ceiling: see the baseline). */
type ReadClient = 'wrk' | 'node:http';

async function readsOf(
  client: ReadClient,
  url: string,
  headers: Readonly<Record<string, string>>,
  seconds: number,
): Promise<WrkReads> {
  if (client === 'node:http')
    return { ...(await readLoad(url, { ...headers }, seconds, CONNECTIONS)), clientCpuSeconds: 0 };
  const reads = await wrkLoad(url, headers, seconds, CONNECTIONS);
  return { ...reads, bodyBytes: await bodyBytesOf(url, headers) };
}

async function baselineReads(client: ReadClient): Promise<{ reads: Reads; othersPercent: number }> {
  const server = await startBaselineServer(BODY_BYTES);
  try {
    const url = `${server.url}${PATH}`;
    await readsOf(client, url, {}, WARMUP_SECONDS);
    const machine = machineBusySeconds();
    const own = process.cpuUsage();
    const t0 = performance.now();
    const reads = await readsOf(client, url, {}, SECONDS);
    const used = process.cpuUsage(own);
    const others = machineBusySeconds() - machine - (used.user + used.system) / 1e6 - reads.clientCpuSeconds;
    return { reads, othersPercent: Math.max(0, (others / ((performance.now() - t0) / 1000)) * 100) };
  } finally {
    await server.stop();
  }
}

async function kpiReadsOnce(run: number, client: ReadClient): Promise<KpiReadsRun> {
  const baseline = await baselineReads(client);
  const pulse = await startPulseProcess();
  const simulator = backgroundSimulator(SEED + run, BACKGROUND_PER_SECOND);
  const background = startBackgroundLoad(
    pulse.url,
    liveLines(simulator),
    BACKGROUND_PER_SECOND,
    BACKGROUND_TICK_MS,
  );
  try {
    // The warm-up also lets the first refreshes fill the live values the route answers from.
    await readsOf(client, `${pulse.url}${PATH}`, BENCH_AUTH, WARMUP_SECONDS);
    await eventLoopDelay(pulse.url);
    const cpu = cpuMeter(pulse);
    const t0 = performance.now();
    const reads = await readsOf(client, `${pulse.url}${PATH}`, BENCH_AUTH, SECONDS);
    const measured = cpu();
    const delay = await eventLoopDelay(pulse.url);
    // wrk is a process of its own: its CPU is the client's, not the other processes'.
    const clientPercent = (reads.clientCpuSeconds / ((performance.now() - t0) / 1000)) * 100;
    const cpuPercent = {
      server: measured.server,
      bench: measured.bench + clientPercent,
      others: Math.max(0, measured.others - clientPercent),
    };
    const load = await background.stop();
    const server = await pulse.stop();
    return {
      pulse: reads,
      baseline: baseline.reads,
      backgroundPerSecond: load.acknowledgedPerSecond,
      backgroundNonOk: load.nonOk,
      // A run is as disturbed as its worse phase.
      cpuPercent: { ...cpuPercent, others: Math.max(cpuPercent.others, baseline.othersPercent) },
      baselineOthersPercent: baseline.othersPercent,
      eventLoopDelay: delay,
      server,
    };
  } finally {
    await background.stop();
    await pulse.stop();
  }
}

export async function runKpiReadsBenchmark(options: KpiReadsOptions): Promise<BenchmarkResult> {
  const client: ReadClient = wrkAvailable() ? 'wrk' : 'node:http';
  if (client === 'node:http')
    options.log('kpi-reads: wrk is not installed (apt-get install wrk): node:http client');
  const once = async (i: number): Promise<KpiReadsRun> => {
    const run = await kpiReadsOnce(i, client);
    options.log(
      `kpi-reads run ${i}/${options.runs}: ${formatRate(run.pulse.perSecond, 'req/s')} (baseline ` +
        `${formatRate(run.baseline.perSecond, 'req/s')}), p50 ${formatMs(run.pulse.p50Ms)}, p99 ` +
        `${formatMs(run.pulse.p99Ms)} (baseline ${formatMs(run.baseline.p50Ms)}/${formatMs(run.baseline.p99Ms)}), ` +
        `event-loop delay p50/p99 ${formatMs(run.eventLoopDelay.p50Ms)}/${formatMs(run.eventLoopDelay.p99Ms)}, ` +
        `body ${run.pulse.bodyBytes} B, CPU server/bench/others ${cpuText(run.cpuPercent)}, non-200 ` +
        `${JSON.stringify(run.pulse.nonOk)}, peak RSS ${formatMiB(run.server.peakRssBytes)}`,
    );
    return run;
  };
  const { runs, discarded } = await repeatRuns(options.runs, once, options.log);
  const pick = (f: (r: KpiReadsRun) => number): number[] => runs.map(f);
  const nonOk = mergeCounts(runs.map((r) => r.pulse.nonOk));
  const backgroundNonOk = mergeCounts(runs.map((r) => r.backgroundNonOk));
  const bytes = (n: number): string => `${formatNumber(n)} B`;
  return {
    name: 'kpi-reads',
    title: 'KPI reads',
    method:
      `\`GET ${PATH}\` (every KPI, window today, from the in-memory live values) from ${CONNECTIONS} ` +
      `keep-alive connections with one request in flight each, for ${SECONDS} s after a ${WARMUP_SECONDS} s ` +
      `warm-up, while ${formatNumber(BACKGROUND_PER_SECOND)} generated events/s are posted every ` +
      `${BACKGROUND_TICK_MS} ms, on a fresh Pulse each run; latency from sending a request to the end of ` +
      `its answer. Client: ${client === 'wrk' ? `wrk (one thread, ${CONNECTIONS} connections; its CPU is counted as the client's)` : `node:http \`request\` with a keep-alive \`Agent\` (maxSockets ${CONNECTIONS}); wrk was not installed`}. ` +
      `Baseline, same run, before Pulse starts: the same client against a bare \`http.createServer\` on a ` +
      `worker thread of the bench process answering a fixed ${formatNumber(BODY_BYTES)} B JSON body. ` +
      `The server's event-loop delay (its /metrics: the intervals of a 10 ms timer, less 10 ms) is read before and after the ` +
      `measured reads. Caveats: the client, the background load and the server share the two cores.`,
    figures: [
      {
        label: 'Requests / s',
        values: pick((r) => r.pulse.perSecond),
        format: (v) => formatRate(v, 'req/s'),
        baseline: {
          label: `bare node:http, ${formatNumber(BODY_BYTES)} B`,
          values: pick((r) => r.baseline.perSecond),
          format: (v) => formatRate(v, 'req/s'),
        },
        goal: { label: '≥ 20,000 req/s', met: (m) => m >= 20_000 },
      },
      {
        label: 'Latency p50',
        values: pick((r) => r.pulse.p50Ms),
        format: formatMs,
        baseline: { label: 'bare node:http', values: pick((r) => r.baseline.p50Ms), format: formatMs },
      },
      {
        label: 'Latency p99',
        values: pick((r) => r.pulse.p99Ms),
        format: formatMs,
        baseline: { label: 'bare node:http', values: pick((r) => r.baseline.p99Ms), format: formatMs },
        goal: { label: '≤ 5 ms', met: (m) => m <= 5 },
      },
      {
        label: 'Server event-loop delay p50',
        values: pick((r) => r.eventLoopDelay.p50Ms),
        format: formatMs,
      },
      {
        label: 'Server event-loop delay p99',
        values: pick((r) => r.eventLoopDelay.p99Ms),
        format: formatMs,
      },
      { label: 'Answer size', values: pick((r) => r.pulse.bodyBytes), format: bytes },
      {
        label: 'Server CPU (100 % = 1 core)',
        values: pick((r) => r.cpuPercent.server),
        format: formatPercent,
      },
      { label: `Client CPU (${client})`, values: pick((r) => r.cpuPercent.bench), format: formatPercent },
      { label: 'Server peak RSS', values: pick((r) => r.server.peakRssBytes), format: formatMiB },
    ],
    notes: [
      `${formatNumber(runs.reduce((s, r) => s + r.pulse.requests, 0))} answers of 200 over ${runs.length} runs; ` +
        `other answers (not counted): ${Object.keys(nonOk).length === 0 ? 'none' : JSON.stringify(nonOk)}.`,
      `Background acknowledged ${formatRate(Math.min(...pick((r) => r.backgroundPerSecond)))}–` +
        `${formatRate(Math.max(...pick((r) => r.backgroundPerSecond)))}; its non-200 answers: ` +
        `${Object.keys(backgroundNonOk).length === 0 ? 'none' : JSON.stringify(backgroundNonOk)}.`,
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
