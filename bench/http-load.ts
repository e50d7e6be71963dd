/**
 * The HTTP read load of the kpi-reads benchmark, and its baseline server. The client: node:http's
 * `request` through a keep-alive `Agent`, N loops with one request in flight each (about 2.5× the
 * requests/s of global fetch with the same loops in a trial on this machine). The baseline: a bare
 * `http.createServer` (no Fastify, no auth, no routing) on a worker thread, answering a fixed JSON body.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { percentile } from './stats.js';

export interface Reads {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly nonOk: Record<string, number>;
  /** Median size of a 200 body, bytes. */
  readonly bodyBytes: number;
}

/** `connections` loops of one GET at a time for `seconds`; every answer read to its end. */
export async function readLoad(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections: number,
): Promise<Reads> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const sizes: number[] = [];
  const nonOk: Record<string, number> = {};
  const get = (): Promise<{ status: string; bytes: number }> =>
    new Promise((resolve) => {
      const req = request(url, { agent, headers }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: String(res.statusCode), bytes }));
        res.on('error', () => resolve({ status: 'network error', bytes }));
      });
      req.on('error', () => resolve({ status: 'network error', bytes: 0 }));
      req.end();
    });
  const started = performance.now();
  const until = started + seconds * 1000;
  let last = started;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const sent = performance.now();
        const { status, bytes } = await get();
        last = performance.now();
        if (status !== '200') {
          nonOk[status] = (nonOk[status] ?? 0) + 1;
          if (status === 'network error') await sleep(10);
          continue;
        }
        latencies.push(last - sent);
        if (sizes.length < 1_000) sizes.push(bytes);
      }
    }),
  );
  agent.destroy();
  return {
    perSecond: latencies.length / ((last - started) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: latencies.length,
    nonOk,
    bodyBytes: percentile(sizes, 50),
  };
}

/** The baseline server: plain node:http on a worker thread, a fixed JSON body of BODY_BYTES. */
const baselineServer = (bodyBytes: number): string => `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const body = Buffer.from(JSON.stringify({ kpis: 'x'.repeat(${bodyBytes} - 12) }));
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

/** Starts the baseline server; resolves with its URL base and a stop function. */
export async function startBaselineServer(
  bodyBytes: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const worker = new Worker(baselineServer(bodyBytes), { eval: true });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (value: number) => resolve(value));
      worker.once('error', reject);
    });
    return { url: `http://127.0.0.1:${port}`, stop: async () => void (await worker.terminate()) };
  } catch (error) {
    await worker.terminate();
    throw error;
  }
}
