/**
 * The CPU that authentication and metrics add to one ingest request, measured on the real code:
 * Pulse's auth hook (bearer key parsed, hashed, looked up, roles checked) on a Fastify app beside
 * the same app without it, and the metric updates an ingest request makes (three labelled counter
 * increments) on Pulse's own prom-client registry. Requests are injected (no sockets), many times
 * over, alternating with and without, so both see the same machine. The ingest benchmark sets the
 * result against the server CPU one real request costs.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createMetrics } from '../src/observability/metrics.js';
import { authPlugin } from '../src/serve/auth.js';
import { generateKey, KeyRing } from '../src/security/index.js';
import { median } from './stats.js';

const REQUESTS = 4_000;
const ROUNDS = 5;

async function app(withAuth: boolean, keys: KeyRing): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false });
  if (withAuth) await instance.register(authPlugin, { keys });
  instance.post('/v1/events', async () => ({ accepted: 1 }));
  await instance.ready();
  return instance;
}

/** CPU µs per injected request on `instance`. */
async function cpuPerRequest(instance: FastifyInstance, headers: Record<string, string>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const response = await instance.inject({ method: 'POST', url: '/v1/events', headers, payload: '{}' });
    if (response.statusCode !== 200) throw new Error(`overhead: answer ${response.statusCode}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REQUESTS;
}

/** Median µs of CPU per request that auth and metrics add (each round: with, without, metrics). */
export async function authAndMetricsMicros(): Promise<{ authMicros: number; metricsMicros: number }> {
  const key = generateKey('overhead', ['ingest']);
  const keys = new KeyRing([key.stored]);
  const headers = { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' };
  const [withAuth, without] = await Promise.all([app(true, keys), app(false, keys)]);
  const metrics = createMetrics({ defaultMetrics: false });
  const auth: number[] = [];
  const counters: number[] = [];
  try {
    await cpuPerRequest(withAuth, headers); // warm-up: JIT, caches
    await cpuPerRequest(without, headers);
    for (let round = 0; round < ROUNDS; round++) {
      const a = await cpuPerRequest(withAuth, headers);
      const b = await cpuPerRequest(without, headers);
      auth.push(Math.max(0, a - b));
      const before = process.cpuUsage();
      for (let i = 0; i < REQUESTS * 10; i++) {
        metrics.eventsIngested.inc({ source: 'http', outcome: 'accepted' }, 1_000);
        metrics.eventsIngested.inc({ source: 'http', outcome: 'duplicate' }, 0);
        metrics.eventsIngested.inc({ source: 'http', outcome: 'quarantined' }, 0);
      }
      const used = process.cpuUsage(before);
      counters.push((used.user + used.system) / (REQUESTS * 10));
    }
  } finally {
    await Promise.all([withAuth.close(), without.close()]);
  }
  return { authMicros: median(auth), metricsMicros: median(counters) };
}
