/**
 * One Pulse under test: `node bin/pulse.js start` as a child process on a fixed DuckDB file, that the
 * chaos harness kills with SIGKILL and starts again on the same file, as an operator's supervisor would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { generateKey } from '../src/security/index.js';

/** The repository root (this file runs from dist/chaos/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PULSE_BIN = join(REPO_ROOT, 'bin/pulse.js');
/** A 32-character key for tokenising PII: test data only. */
export const CHAOS_TOKEN_KEY = 'chaos-token-key-0123456789abcdef';
const READY_TIMEOUT_MS = 600_000;

export async function freePort(): Promise<number> {
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

/** Only our settings: a PULSE_* variable left in the shell must not change what is tested. */
export function chaosEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PULSE_')) env[key] = value;
  env.PULSE_TOKEN_KEY = CHAOS_TOKEN_KEY;
  env.PULSE_LOG_LEVEL = 'error';
  return env;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Writes the config file of the folder: the harness's admin key (by hash) and a rate limit high
 * enough that the producers are never throttled. Returns the Authorization header to send.
 */
export function writeChaosConfig(dir: string): Record<string, string> {
  const key = generateKey('chaos', ['admin']);
  writeFileSync(
    join(dir, 'pulse.config.yaml'),
    [
      'auth:',
      '  keys:',
      `    - { id: ${key.stored.id}, name: chaos, sha256: ${key.stored.sha256}, roles: [admin] }`,
      'limits:',
      '  rate_per_key: 1000000',
      '  rate_window_ms: 1000',
      '',
    ].join('\n'),
  );
  return { authorization: `Bearer ${key.key}` };
}

/** A Pulse process on `dbPath`, started from `dir` (where pulse.config.yaml is). */
export class PulseNode {
  readonly url: string;
  readonly #dir: string;
  readonly #dbPath: string;
  readonly #port: number;
  #child: ChildProcess | undefined;
  /** The last lines the current process wrote to stderr (why it failed to start, a stack trace…). */
  tail = '';

  private constructor(dir: string, dbPath: string, port: number) {
    this.#dir = dir;
    this.#dbPath = dbPath;
    this.#port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(dir: string, dbPath: string): Promise<PulseNode> {
    return new PulseNode(dir, dbPath, await freePort());
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the process (does not wait for it to be ready). */
  spawn(): void {
    if (this.running) throw new Error('Pulse is already running');
    this.tail = '';
    const child = spawn(
      process.execPath,
      [PULSE_BIN, 'start', '--db', this.#dbPath, '--port', String(this.#port)],
      {
        cwd: this.#dir,
        env: chaosEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.tail = (this.tail + chunk).slice(-4000);
    });
    this.#child = child;
  }

  /** Resolves once `GET /readyz` answers 200; throws if the process exits first. */
  async ready(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.running) throw new Error(`Pulse exited before it was ready: ${this.tail}`);
      try {
        const response = await fetch(`${this.url}/readyz`);
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`Pulse was not ready after ${READY_TIMEOUT_MS / 1000} s`);
      await sleep(25);
    }
  }

  async start(): Promise<void> {
    this.spawn();
    await this.ready();
  }

  /** SIGKILL, now (synchronously), then waits for the process to be gone. */
  kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return Promise.resolve();
    child.kill('SIGKILL');
    return exited(child);
  }

  /** A clean stop (SIGTERM), SIGKILL after `graceMs`; returns how it ended. */
  async stop(graceMs = 30_000): Promise<string> {
    const child = this.#child;
    if (child === undefined || !this.running) return 'not running';
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
    return child.signalCode ?? `exit ${child.exitCode}`;
  }
}
