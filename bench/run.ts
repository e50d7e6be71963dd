/**
 * `npm run bench`: runs each benchmark against a real Pulse started as a child process, prints a
 * markdown table, writes the raw results to bench/results/<timestamp>.json and rewrites the generated
 * section of BENCHMARKS.md.
 *
 *   node dist/bench/run.js [--runs N] [--seconds S] [--concurrency C] [--markers M]
 *                          [--only ingest|freshness|freshness-sse|freshness-million|freshness-history|kpi-reads|peers|alerts|file-drops|nats|dashboard|quality-pass|inventory-risk|model-run|checkpoint|lineage-emission|marts]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAlertsBenchmark } from './alerts.js';
import { runBackfillBenchmark } from './backfill.js';
import { runFileDropsBenchmark } from './file-drops.js';
import { runDashboardBenchmark } from './dashboard.js';
import { runFreshnessBenchmark } from './freshness.js';
import { runFreshnessHistoryBenchmark } from './freshness-history.js';
import { runFreshnessSseBenchmark } from './freshness-sse.js';
import { runIngestBenchmark } from './ingest.js';
import { runKpiReadsBenchmark } from './kpi-reads.js';
import { runNatsBenchmark } from './nats.js';
import { runLineageEmissionBenchmark } from './lineage-emission.js';
import { runMartsBenchmark } from './marts.js';
import { runPeersBenchmark } from './peers.js';
import { runQualityPassBenchmark } from './quality-pass.js';
import { runInventoryRiskBenchmark } from './inventory-risk.js';
import { runModelRunBenchmark } from './model-run.js';
import { runCheckpointBenchmark } from './checkpoint.js';
import { freezeBuild, releaseBuild, REPO_ROOT, stopAllPulseProcesses } from './pulse-process.js';
import { othersCpuPercent } from './repeat.js';
import { describeMachine, machineLine, renderSection, renderTable, writeBenchmarksFile } from './report.js';
import type { BenchmarkResult } from './report.js';

export interface BenchFlags {
  readonly runs: number;
  readonly seconds: number;
  readonly only: string | undefined;
  readonly concurrency: number;
  readonly markers: number;
  /** Events committed before each model run of the model-run bench. */
  readonly refreshEvents: number;
}

const BENCHMARKS: Record<
  string,
  (flags: BenchFlags, log: (line: string) => void) => Promise<BenchmarkResult>
> = {
  ingest: (flags, log) =>
    runIngestBenchmark({ runs: flags.runs, seconds: flags.seconds, concurrency: flags.concurrency, log }),
  freshness: (flags, log) => runFreshnessBenchmark({ runs: flags.runs, markers: flags.markers, log }),
  'kpi-reads': (flags, log) => runKpiReadsBenchmark({ runs: flags.runs, log }),
  peers: (flags, log) => runPeersBenchmark({ runs: flags.runs, log }),
  alerts: (flags, log) => runAlertsBenchmark({ runs: flags.runs, markers: flags.markers, log }),
  'file-drops': (flags, log) => runFileDropsBenchmark({ runs: flags.runs, log }),
  backfill: (flags, log) => runBackfillBenchmark({ runs: flags.runs, log }),
  nats: (flags, log) => runNatsBenchmark({ runs: flags.runs, concurrency: flags.concurrency, log }),
  dashboard: (flags, log) => runDashboardBenchmark({ runs: flags.runs, markers: flags.markers, log }),
  'quality-pass': (flags, log) => runQualityPassBenchmark({ runs: flags.runs, log }),
  'inventory-risk': (flags, log) => runInventoryRiskBenchmark({ runs: flags.runs, log }),
  'model-run': (flags, log) =>
    runModelRunBenchmark({ runs: flags.runs, refreshEvents: flags.refreshEvents, log }),
  checkpoint: (flags, log) => runCheckpointBenchmark({ runs: flags.runs, log }),
  'lineage-emission': (flags, log) => runLineageEmissionBenchmark({ runs: flags.runs, log }),
  marts: (flags, log) => runMartsBenchmark({ runs: flags.runs, seconds: flags.seconds, log }),
  'freshness-history': (flags, log) =>
    runFreshnessHistoryBenchmark({ runs: flags.runs, markers: flags.markers, log }),
  // Last: the 1M/min runs take most of the pass.
  'freshness-sse': (flags, log) =>
    runFreshnessSseBenchmark({ runs: flags.runs, markers: flags.markers, log }),
  'freshness-million': (flags, log) =>
    runFreshnessSseBenchmark({ runs: flags.runs, markers: flags.markers, log, millionOnly: true }),
};

/** Parts of another benchmark, run alone with --only: the full pass runs them within that one. */
const ONLY_ON_REQUEST = new Set(['freshness-million']);

const CAVEATS =
  'Everything runs on one 2-core machine: the server and the load generator (the bench process) share ' +
  'the same two cores, so the server never has both to itself and every figure is pessimistic for a ' +
  'dedicated host; the "Load generator CPU" row shows what the client took. Requests go over loopback ' +
  '(no network latency or bandwidth limit). Each run starts a fresh Pulse (`node bin/pulse.js start`) on a ' +
  "fresh DuckDB file on the VM's disk, so a run never sees more data than it wrote itself; a long-lived " +
  'warehouse with months of history, and checkpoints of a big file, will cost more (the peers benchmark ' +
  'works on a 10 M-line file instead). The polling freshness figures include the 5 ms polling interval and ' +
  'the GET round trip; the SSE ones do not poll. PostgreSQL is the local server with its default settings. ' +
  'The servers and `pulse` commands run a frozen copy of the build ' +
  'made when the bench started (commit and build hash above), and runs during which other processes used ' +
  'more than 10 % of a core are discarded and done again (a run is redone at most N times, then kept and ' +
  'flagged). Ratios compare figures measured in the same ' +
  'run; compare ratios, not absolute figures, across machines or days.';

class UsageError extends Error {}

/** The commit measured, and whether src/ had uncommitted changes (the build compiles the working tree). */
function sourceRevision(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' plus uncommitted changes in src/' : ''}`;
  } catch {
    return 'an unknown revision (no git)';
  }
}

function positiveInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return Number(value);
}

const OPTIONS = {
  runs: { type: 'string', default: '5' },
  seconds: { type: 'string', default: '20' },
  only: { type: 'string' },
  concurrency: { type: 'string', default: '4' },
  markers: { type: 'string', default: '100' },
  'refresh-events': { type: 'string', default: '170' },
} as const;

/** Reads the flags (util.parseArgs, strict); throws a UsageError naming the bad flag. */
export function parseBenchFlags(argv: string[]): BenchFlags {
  const values = (() => {
    try {
      return parseArgs({ args: argv, strict: true, options: OPTIONS }).values;
    } catch (error) {
      throw new UsageError((error as Error).message.split('\n')[0]);
    }
  })();
  const seconds = Number(values.seconds);
  if (!/^\d+(\.\d+)?$/.test(values.seconds) || !(seconds > 0)) {
    throw new UsageError(`--seconds must be a number of seconds > 0, got "${values.seconds}"`);
  }
  if (values.only !== undefined && !(values.only in BENCHMARKS)) {
    throw new UsageError(`--only must be one of ${Object.keys(BENCHMARKS).join(', ')}, got "${values.only}"`);
  }
  return {
    runs: positiveInteger('--runs', values.runs),
    seconds,
    only: values.only,
    concurrency: positiveInteger('--concurrency', values.concurrency),
    markers: positiveInteger('--markers', values.markers),
    refreshEvents: positiveInteger('--refresh-events', values['refresh-events']),
  };
}

async function main(argv: string[]): Promise<number> {
  let flags: BenchFlags;
  try {
    flags = parseBenchFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return 2;
  }
  // First of all, before anyone can rebuild dist/ under us.
  const revision = `${sourceRevision()} (build ${freezeBuild()})`;
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`bench: stopped by ${signal}; finished benchmarks are in bench/results/\n`);
    void stopAllPulseProcesses().finally(() => {
      releaseBuild();
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const machine = describeMachine();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`bench: ${machineLine(machine)}`);
  const busy = await othersCpuPercent(1000);
  log(`bench: before starting, other processes used ${busy.toFixed(0)} % of a core`);
  const date = new Date();
  const results: BenchmarkResult[] = [];
  const resultsDir = join(REPO_ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, `${date.toISOString().replace(/[:.]/g, '-')}.json`);
  // Rewritten after each benchmark, so that an interrupted pass keeps what it measured.
  const save = (complete: boolean): void =>
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ date: date.toISOString(), revision, complete, idleBusyPercent: busy, argv, flags, machine, results }, null, 2)}\n`,
    );
  try {
    for (const [name, run] of Object.entries(BENCHMARKS)) {
      if (flags.only === undefined ? ONLY_ON_REQUEST.has(name) : flags.only !== name) continue;
      results.push(await run(flags, log));
      save(false);
    }
  } finally {
    await stopAllPulseProcesses();
    releaseBuild();
  }

  process.stdout.write(`${renderTable(results)}\n`);
  save(true);
  log(`bench: raw results in ${jsonPath}`);
  if (flags.only !== undefined) {
    // A partial run must not wipe the other benchmarks' figures from the report.
    log('bench: BENCHMARKS.md left unchanged (--only runs one benchmark)');
    return 0;
  }
  const command = `npm run bench -- ${argv.join(' ')}`.trim().replace(/ --$/, '');
  writeBenchmarksFile(
    join(REPO_ROOT, 'BENCHMARKS.md'),
    renderSection(results, {
      machine,
      date,
      revision,
      command,
      caveats: CAVEATS,
    }),
    machine,
  );
  log('bench: BENCHMARKS.md updated');
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
