/**
 * PostgreSQL for the peers benchmark, through the `psql` client (the `pg` package is not in
 * node_modules): the local server at 127.0.0.1:5432, trust auth as root, database `test` (else
 * `postgres`), everything in a schema of its own that is dropped at the end. Statement times are
 * psql's `\timing` (client round trip of the statement). Also the CPU time of every postgres process,
 * read from /proc, so that a run can tell its own load from other people's.
 */
import { execFile, spawn } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { machineBusySeconds } from './pulse-process.js';

const run = promisify(execFile);
const HOST = ['-h', '127.0.0.1', '-p', '5432', '-U', 'root'];
const DATABASES = ['test', 'postgres'];
const TICKS_PER_SECOND = 100;

export interface Pg {
  readonly database: string;
  readonly superuser: boolean;
  /** "PostgreSQL 15.20, shared_buffers 128MB, work_mem 4MB, …". */
  readonly settings: string;
  /** Runs SQL; returns psql's unaligned, tuples-only output. */
  query(sql: string): Promise<string>;
  /** Runs one statement; returns its time in ms as psql's \timing measures it. */
  timed(sql: string): Promise<number>;
  /**
   * Loads a CSV file into a table: a server-side COPY as superuser (the file must be readable by the
   * server's user), else through psql's stdin.
   */
  copyCsv(table: string, file: string): Promise<void>;
}

function args(database: string, extra: readonly string[]): string[] {
  return [...HOST, '-d', database, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...extra];
}

/** The session time zone is UTC, as in DuckDB, so that minutes truncate alike. */
const ENV = { ...process.env, PGTZ: 'UTC', PGCONNECT_TIMEOUT: '5' };

async function psql(database: string, sql: string, before: readonly string[] = []): Promise<string> {
  try {
    const { stdout } = await run('psql', args(database, [...before, '-c', sql]), {
      env: ENV,
      maxBuffer: 64 << 20,
    });
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`psql (${database}) failed: ${(e.stderr ?? e.message).trim().slice(0, 500)}`);
  }
}

/** Connects to the first database that answers; throws loudly if none does. */
export async function connectPg(): Promise<Pg> {
  const failures: string[] = [];
  for (const database of DATABASES) {
    try {
      const row = await psql(
        database,
        `SELECT concat_ws('|', (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), ` +
          `split_part(version(), ' ', 2), current_setting('shared_buffers'), current_setting('work_mem'), ` +
          `current_setting('max_parallel_workers_per_gather'), current_setting('jit'))`,
      );
      const [superuser, version, buffers, workMem, workers, jit] = row.split('|');
      return {
        database,
        superuser: superuser === 't',
        settings:
          `PostgreSQL ${version}, default settings: shared_buffers ${buffers}, work_mem ${workMem}, ` +
          `max_parallel_workers_per_gather ${workers}, jit ${jit}`,
        query: (sql) => psql(database, sql),
        async timed(sql) {
          const out = await psql(database, sql, ['-c', '\\timing on']);
          const match = /Time: ([\d.]+) ms/.exec(out);
          if (!match) throw new Error(`psql printed no timing for ${sql}: ${out.slice(0, 300)}`);
          return Number(match[1]);
        },
        copyCsv: (table, file) =>
          superuser === 't'
            ? psql(database, `COPY ${table} FROM '${file.replaceAll("'", "''")}' (FORMAT csv)`).then(
                () => undefined,
              )
            : copyCsv(database, table, file),
      };
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(`PostgreSQL is not reachable at 127.0.0.1:5432 as root: ${failures.join('; ')}`);
}

async function copyCsv(database: string, table: string, file: string): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    const child = spawn('psql', args(database, ['-c', `COPY ${table} FROM STDIN (FORMAT csv)`]), {
      env: ENV,
      stdio: [fd, 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`psql COPY ${table} failed (${code}): ${stderr.slice(0, 500)}`);
  } finally {
    closeSync(fd);
  }
}

/** DuckDB column type → PostgreSQL column type (those the gold tables use). */
export function pgType(duckdbType: string): string {
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(duckdbType);
  if (decimal) return `numeric(${decimal[1]}, ${decimal[2]})`;
  const types: Record<string, string> = {
    VARCHAR: 'text',
    INTEGER: 'integer',
    BIGINT: 'bigint',
    DOUBLE: 'double precision',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  };
  const type = types[duckdbType];
  if (type === undefined) throw new Error(`no PostgreSQL type for DuckDB's ${duckdbType}`);
  return type;
}

/**
 * CPU seconds of every postgres process, including those that ended (in the postmaster's
 * children's times once it reaped them): backends, parallel workers, checkpointer.
 */
export function pgCpuSeconds(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    if (!text.includes('(postgres)')) continue;
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime
    for (const i of [11, 12, 13, 14]) ticks += Number(fields[i] ?? 0);
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of this process and the children it waited for (psql, pulse backfill). */
function ownCpuSeconds(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / 100;
}

/** CPU use from now on, % of one core: PostgreSQL, the bench process with its children, everyone else. */
export function peersCpuMeter(): () => { server: number; bench: number; others: number } {
  const [machine, own, pg, started] = [
    machineBusySeconds(),
    ownCpuSeconds(),
    pgCpuSeconds(),
    performance.now(),
  ];
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const ownUsed = ownCpuSeconds() - own;
    const pgUsed = pgCpuSeconds() - pg;
    const others = Math.max(0, machineBusySeconds() - machine - ownUsed - pgUsed);
    return {
      server: (pgUsed / seconds) * 100,
      bench: (ownUsed / seconds) * 100,
      others: (others / seconds) * 100,
    };
  };
}
