/**
 * Runs the `pulse` command of the build under measurement as a child process (generate, ingest,
 * backfill), in its own folder and with only the bench's PULSE_* settings, and reports its wall time,
 * its peak RSS and its CPU time. The figures come from the child itself: a module preloaded with
 * `--import` writes `process.resourceUsage()` (getrusage of the whole process: every thread, DuckDB's
 * included) to stderr when the process exits.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineBusySeconds, pulseBin, pulseEnv } from './pulse-process.js';

export interface CliRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** Peak resident set size of the child, bytes (ru_maxrss). */
  readonly peakRssBytes: number;
  /** User + system CPU time of the child, seconds. */
  readonly cpuSeconds: number;
  /** CPU the other processes used meanwhile (the machine's busy time minus the child's), % of one core. */
  readonly othersPercent: number;
}

const MARK = '@@pulse-bench-rusage ';

/** The preload module, written once into `dir`. */
function usageHook(dir: string): string {
  const path = join(dir, 'rusage-hook.mjs');
  writeFileSync(
    path,
    `import { writeSync } from 'node:fs';\n` +
      `process.on('exit', () => {\n` +
      `  const u = process.resourceUsage();\n` +
      `  writeSync(2, '\\n${MARK}' + JSON.stringify({ maxRssKiB: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }) + '\\n');\n` +
      `});\n`,
  );
  return pathToFileURL(path).href;
}

/** `pulse <args>` with `cwd` as its working folder (no pulse.config.yaml there); throws on a non-zero exit. */
export async function runPulseCli(args: readonly string[], cwd: string): Promise<CliRun> {
  const hook = usageHook(cwd);
  const busyBefore = machineBusySeconds();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', hook, pulseBin(), ...args], {
    cwd,
    env: pulseEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-100_000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  const wallMs = performance.now() - started;
  const busySeconds = machineBusySeconds() - busyBefore;
  const marked = stderr.lastIndexOf(MARK);
  const usage =
    marked === -1
      ? undefined
      : (JSON.parse(stderr.slice(marked + MARK.length).split('\n')[0] ?? '{}') as {
          maxRssKiB: number;
          cpuUs: number;
        });
  const ownStderr = marked === -1 ? stderr : stderr.slice(0, marked);
  if (code !== 0) {
    throw new Error(`pulse ${args.join(' ')} exited with ${code}: ${ownStderr.slice(-2_000)}`);
  }
  const cpuSeconds = usage ? usage.cpuUs / 1e6 : Number.NaN;
  return {
    stdout,
    stderr: ownStderr,
    wallMs,
    peakRssBytes: usage ? usage.maxRssKiB * 1024 : Number.NaN,
    cpuSeconds,
    othersPercent: Math.max(0, ((busySeconds - cpuSeconds) / (wallMs / 1000)) * 100),
  };
}

/**
 * A warehouse of generated traffic: `pulse generate <generateArgs> --out` an NDJSON file in `cwd`,
 * `pulse ingest` of it into `db` (with `ingestArgs`), then the file is removed. Returns the ingest.
 */
export async function ingestGenerated(
  cwd: string,
  generateArgs: readonly string[],
  db: string,
  ingestArgs: readonly string[] = [],
): Promise<CliRun> {
  // Named after the warehouse, so that two of them built at once in one folder do not share a file.
  const file = `${basename(db)}.ndjson`;
  await runPulseCli(['generate', ...generateArgs, '--out', file], cwd);
  const ingest = await runPulseCli(['ingest', file, '--db', db, ...ingestArgs], cwd);
  rmSync(join(cwd, file));
  return ingest;
}
