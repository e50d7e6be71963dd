/**
 * A real Pulse for a benchmark: `node bin/pulse.js start` as a child process on a fresh DuckDB file in
 * a temporary folder and a free port, exactly as an operator would run it. Reports the server's peak
 * RSS (VmHWM) and CPU time from /proc, and stops it with SIGTERM (SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKey } from '../src/security/index.js';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A 32-character key for tokenising PII: test data only. */
export const BENCH_TOKEN_KEY = 'bench-token-key-0123456789abcdef';
const READY_TIMEOUT_MS = 60_000;
/**
 * Kubernetes' default grace period: after a minute at 1,000,000 events a minute the final checkpoint
 * of the WAL takes Pulse 7.5 s to stop, which a 5 s grace cut short. Longer with flags from
 * BENCH_SERVER_NODE_ARGS: a CPU profile is written as the server exits.
 */
const STOP_GRACE_MS = process.env.BENCH_SERVER_NODE_ARGS ? 120_000 : 30_000;
/** Linux reports process times in USER_HZ ticks, fixed at 100 per second for user space. */
const TICKS_PER_SECOND = 100;

export interface ServerStats {
  /** Peak resident set size of the server process, bytes (VmHWM). */
  readonly peakRssBytes: number;
  /** User + system CPU time the server used since it started, seconds (all its threads). */
  readonly cpuSeconds: number;
  /** Lines the server wrote to stderr: logs at warn level or above (PULSE_LOG_LEVEL=warn), stack traces. */
  readonly logLines: readonly string[];
  /** How it ended: "stopped on SIGTERM in 120 ms (exit 0)", "killed with SIGKILL…", "had already exited…". */
  readonly ending: string;
}

export interface PulseProcess {
  readonly url: string;
  readonly pid: number;
  /** Server CPU seconds so far (read from /proc/<pid>/stat). */
  cpuSeconds(): number;
  /** Reads the final figures, then stops the server and deletes its folder. */
  stop(): Promise<ServerStats>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function procStatus(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

function procCpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: the fields we want come after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds the whole machine spent busy (all cores, all processes) since boot, from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}

/**
 * Measures CPU use from now on: the server's, the bench process's and everyone else's (the machine's
 * busy time minus those two), each in % of one core over the elapsed time.
 */
export function cpuMeter(pulse: PulseProcess): () => { server: number; bench: number; others: number } {
  const server = pulse.cpuSeconds();
  const bench = process.cpuUsage();
  const machine = machineBusySeconds();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const serverSeconds = pulse.cpuSeconds() - server;
    const used = process.cpuUsage(bench);
    const benchSeconds = (used.user + used.system) / 1e6;
    const otherSeconds = Math.max(0, machineBusySeconds() - machine - serverSeconds - benchSeconds);
    const percent = (s: number): number => (s / seconds) * 100;
    return { server: percent(serverSeconds), bench: percent(benchSeconds), others: percent(otherSeconds) };
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Where the servers are started from: the repository, or a frozen copy of its build. */
let buildRoot = REPO_ROOT;

/**
 * Copies the build (bin/pulse.js, dist/src, package.json; node_modules linked) to a temporary folder
 * and starts every later server from there: other people rebuilding dist/ during a long bench then
 * cannot change the code under measurement. Returns a short hash of the compiled files.
 */
export function freezeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'pulse-bench-build-'));
  for (const part of ['bin/pulse.js', 'dist/src', 'dist/web', 'package.json']) {
    cpSync(join(REPO_ROOT, part), join(root, part), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  buildRoot = root;
  const hash = createHash('sha256');
  const files = readdirSync(join(root, 'dist/src'), {
    recursive: true,
    encoding: 'utf8',
    withFileTypes: false,
  });
  for (const file of files.sort()) {
    const path = join(root, 'dist/src', file);
    hash.update(file);
    try {
      hash.update(readFileSync(path));
    } catch {
      // A folder.
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/** Deletes the frozen build, if any. */
export function releaseBuild(): void {
  if (buildRoot !== REPO_ROOT) rmSync(buildRoot, { recursive: true, force: true });
  buildRoot = REPO_ROOT;
}

/** The `pulse` command of the build under measurement (the frozen copy once `freezeBuild` ran). */
export function pulseBin(): string {
  return join(buildRoot, 'bin/pulse.js');
}

/**
 * Node flags for the servers, from BENCH_SERVER_NODE_ARGS (space-separated): to profile a server
 * under a benchmark's load, say `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS refuses.
 */
function serverNodeArgs(): string[] {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
}

/** The environment of every Pulse the bench runs: no PULSE_* variable from the shell, the bench token key. */
export function pulseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PULSE_')) env[key] = value;
  env.PULSE_TOKEN_KEY = BENCH_TOKEN_KEY;
  return env;
}

/** The API key every bench request carries. */
export const BENCH_KEY = generateKey('bench', ['admin']);
export const BENCH_AUTH: Readonly<Record<string, string>> = { authorization: `Bearer ${BENCH_KEY.key}` };

const running = new Set<() => Promise<ServerStats>>();

/** Stops every Pulse still running (on Ctrl+C or a failed benchmark). */
export async function stopAllPulseProcesses(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

/**
 * Starts Pulse and resolves once `GET /readyz` answers 200; `extraConfig` is appended to its config
 * file; quality rules run after each refresh unless `quality` is false (a benchmark comparing);
 * `seedDb` is a warehouse file Pulse starts on (a copy: the file itself is left as it was).
 */
export async function startPulseProcess(
  options: { extraConfig?: string; quality?: boolean; seedDb?: string } = {},
): Promise<PulseProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-'));
  if (options.seedDb) copyFileSync(options.seedDb, join(dir, 'bench.duckdb'));
  const port = await freePort();
  // Only our settings: a PULSE_* variable left in the shell must not change what is measured.
  const env = pulseEnv();
  // The bench's own key (every role), declared by hash in the config file Pulse reads from its cwd.
  writeFileSync(
    join(dir, 'pulse.config.yaml'),
    // Quoted: a random hex id may read as a number in YAML (123456789012, 12e345678901).
    `auth:\n  keys:\n    - { id: "${BENCH_KEY.stored.id}", name: bench, sha256: "${BENCH_KEY.stored.sha256}", roles: [admin] }\n` +
      // The load generator is one key: it must never be throttled, or the bench measures the limit.
      `limits:\n  rate_per_key: 100000000\n  rate_window_ms: 1000\n` +
      (options.extraConfig ?? ''),
  );
  env.PULSE_LOG_LEVEL = 'warn';
  env.PULSE_QUALITY_ENABLED = String(options.quality ?? true);
  const child = spawn(
    process.execPath,
    [...serverNodeArgs(), pulseBin(), 'start', '--db', join(dir, 'bench.duckdb'), '--port', String(port)],
    { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const logLines: string[] = [];
  let partial = '';
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    // pino writes JSON lines (warn and above here); anything else but the start/stop banners is kept too.
    for (const line of lines) {
      if (line.trim() === '' || /^(Pulse is running|Stopping)/.test(line) || logLines.length >= 1000)
        continue;
      logLines.push(line);
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const pid = child.pid as number;
  let stopping: Promise<ServerStats> | undefined;

  const stop = (): Promise<ServerStats> => {
    stopping ??= (async () => {
      let peakRssBytes = Number.NaN;
      let cpuSeconds = Number.NaN;
      let ending = `had already exited (${child.exitCode ?? child.signalCode})`;
      if (child.exitCode === null && child.signalCode === null) {
        peakRssBytes = procStatus(pid, 'VmHWM');
        cpuSeconds = procCpuSeconds(pid);
        const asked = performance.now();
        child.kill('SIGTERM');
        let killed = false;
        const timer = setTimeout(() => (killed = child.kill('SIGKILL')), STOP_GRACE_MS);
        await exited(child);
        clearTimeout(timer);
        ending = killed
          ? `killed with SIGKILL after ${STOP_GRACE_MS / 1000} s`
          : `stopped on SIGTERM in ${Math.round(performance.now() - asked)} ms (exit ${child.exitCode ?? child.signalCode})`;
      }
      rmSync(dir, { recursive: true, force: true });
      running.delete(stop);
      return { peakRssBytes, cpuSeconds, logLines, ending };
    })();
    return stopping;
  };
  running.add(stop);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`Pulse exited before it was ready (${child.exitCode ?? child.signalCode}): ${tail}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Pulse was not ready after ${READY_TIMEOUT_MS / 1000} s`);
    }
    await sleep(50);
  }
  return { url, pid, cpuSeconds: () => procCpuSeconds(pid), stop };
}
