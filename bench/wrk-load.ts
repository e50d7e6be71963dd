/**
 * The HTTP read load of the kpi-reads benchmark, driven by wrk (Debian's package `wrk`): an event
 * loop in C that keeps `connections` keep-alive connections with one request in flight each, for a
 * fraction of the CPU a Node client needs (under a quarter of a core against the 58 % that node:http's
 * client took here for fewer requests). Its Lua `done` hook writes the figures as one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reads } from './http-load.js';

const WRK = 'wrk';

/** Latencies in µs, as wrk keeps them; non-2xx/3xx answers and socket errors counted apart. */
const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,' ..
    '"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
`;

export function wrkAvailable(): boolean {
  return spawnSync(WRK, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** User + system seconds of this process's children that have ended (wrk, once waited for). */
function endedChildrenCpuSeconds(): number {
  // /proc/self/stat: the fields after the command's closing parenthesis; cutime and cstime are 16 and 17.
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

export interface WrkReads extends Reads {
  /** CPU seconds wrk used. */
  readonly clientCpuSeconds: number;
}

/** One thread of wrk, `connections` connections, `seconds` long; every answer read to its end. */
export async function wrkLoad(
  url: string,
  headers: Readonly<Record<string, string>>,
  seconds: number,
  connections: number,
): Promise<WrkReads> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-wrk-'));
  const script = join(dir, 'report.lua');
  writeFileSync(script, REPORT);
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const cpuBefore = endedChildrenCpuSeconds();
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text.slice(-500)}`)),
      );
    });
    const line = output.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk wrote no report: ${output.slice(-500)}`);
    const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    const nonOk: Record<string, number> = {};
    for (const kind of ['status', 'connect', 'read', 'write', 'timeout'] as const)
      if ((r[kind] ?? 0) > 0) nonOk[kind === 'status' ? 'non-2xx' : `socket ${kind}`] = r[kind] ?? 0;
    const ok = (r.requests ?? 0) - (r.status ?? 0);
    return {
      perSecond: ok / ((r.duration_us ?? 1) / 1e6),
      p50Ms: (r.p50_us ?? 0) / 1000,
      p99Ms: (r.p99_us ?? 0) / 1000,
      requests: ok,
      nonOk,
      // wrk counts header bytes too; the body size comes from one plain GET (bodyBytesOf).
      bodyBytes: 0,
      clientCpuSeconds: endedChildrenCpuSeconds() - cpuBefore,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The size of one answer's body. */
export async function bodyBytesOf(url: string, headers: Readonly<Record<string, string>>): Promise<number> {
  const response = await fetch(url, { headers });
  return (await response.arrayBuffer()).byteLength;
}
