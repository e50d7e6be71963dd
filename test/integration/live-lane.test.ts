import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const NOW = new Date('2026-03-10T12:00:00Z');

/** Headers that differ between any two answers (time, request, budget left). */
const PER_REQUEST = new Set(['date', 'x-request-id', 'x-ratelimit-remaining', 'x-ratelimit-reset']);

async function postOrders(pulse: TestPulse, count: number): Promise<void> {
  const body = Array.from({ length: count }, (_, i) =>
    JSON.stringify(
      orderEvent({ quantity: i + 1, placedAt: `2026-03-10T11:${String(10 + i).padStart(2, '0')}:00Z` }),
    ),
  ).join('\n');
  const posted = await pulse.post(body, 'application/x-ndjson');
  assert.equal(posted.status, 200, JSON.stringify(posted.body));
  await pulse.refresh();
}

/** `pulse_live_lane_answers_total` as /metrics gives it (itself a routed request). */
async function laneAnswers(pulse: TestPulse): Promise<number> {
  const text = await (await pulse.fetch(`${pulse.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('pulse_live_lane_answers_total '));
  assert.ok(line, 'the lane counter is exported');
  return Number(line.split(' ')[1]);
}

/**
 * The live read lane answers GET /v1/kpis and /v1/kpis/{id} of named windows before Fastify routes
 * them: the same bytes and headers as the routed API, in the same rate budget, and everything it
 * cannot answer exactly so (errors, sellers, parameters) left to the API.
 */
describe('live read lane', () => {
  let pulse: TestPulse;
  let reader: string;
  before(async () => {
    // A fixed clock: lag_ms is the same in every answer, so answers compare byte for byte.
    pulse = await startTestPulse({ now: () => NOW, refreshDebounceMs: 10 });
    await postOrders(pulse, 3);
    reader = await pulse.keyFor('read');
  });
  after(async () => pulse?.dispose());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${reader}`, ...headers } });

  it('answers with the bytes and headers the routed API gives for the same read', async () => {
    const counted = await laneAnswers(pulse);
    // `currency=EUR` asks the same thing, but is not on the lane's list: the API answers it.
    const pairs = [
      ['/v1/kpis', '/v1/kpis?currency=EUR'],
      ['/v1/kpis?window=24h', '/v1/kpis?window=24h&currency=EUR'],
      ['/v1/kpis/net_revenue?by=channel', '/v1/kpis/net_revenue?by=channel&currency=EUR'],
      ['/v1/kpis/net_revenue?by=country&window=1h', '/v1/kpis/net_revenue?window=1h&by=country&currency=EUR'],
      ['/v1/kpis/conversion_rate?window=today', '/v1/kpis/conversion_rate?currency=EUR'],
    ] as const;
    for (const [lanePath, routedPath] of pairs) {
      const lane = await get(lanePath, { 'x-request-id': 'lane-1' });
      const routed = await get(routedPath, { 'x-request-id': 'routed-1' });
      assert.equal(lane.status, 200, lanePath);
      assert.equal(routed.status, 200, routedPath);
      assert.deepEqual(
        Buffer.from(await lane.arrayBuffer()),
        Buffer.from(await routed.arrayBuffer()),
        lanePath,
      );
      const laneHeaders = Object.fromEntries(lane.headers);
      const routedHeaders = Object.fromEntries(routed.headers);
      assert.deepEqual(Object.keys(laneHeaders).sort(), Object.keys(routedHeaders).sort(), lanePath);
      for (const [name, value] of Object.entries(routedHeaders))
        if (!PER_REQUEST.has(name)) assert.equal(laneHeaders[name], value, `${lanePath}: ${name}`);
      assert.equal(laneHeaders['x-request-id'], 'lane-1');
      // The two reads were counted one after the other in the key's budget.
      assert.equal(
        Number(laneHeaders['x-ratelimit-remaining']),
        Number(routedHeaders['x-ratelimit-remaining']) + 1,
      );
    }
    assert.equal((await laneAnswers(pulse)) - counted, pairs.length);
  });

  it("answers the live values themselves: every KPI's answer as the live store holds it", async () => {
    const body = (await (await get('/v1/kpis?window=1h')).json()) as { kpis: unknown[] };
    assert.deepEqual(body, JSON.parse(JSON.stringify({ kpis: pulse.live.all('1h') })));
    assert.equal(body.kpis.length, 6);
    const one = (await (await get('/v1/kpis/net_revenue?by=channel')).json()) as Record<string, unknown>;
    assert.deepEqual(one, JSON.parse(JSON.stringify(pulse.live.get('net_revenue', 'today', 'channel'))));
  });

  it('leaves to the API every read it cannot answer as the API would', async () => {
    const ingest = await pulse.keyFor('ingest');
    const seller = await pulse.keyFor('seller:S1');
    const counted = await laneAnswers(pulse);
    const cases: [string, Record<string, string>, number, string?][] = [
      ['/v1/kpis', { authorization: '' }, 401, 'PULSE_ERR_UNAUTHENTICATED'],
      ['/v1/kpis', { authorization: `Bearer ${reader.slice(0, -2)}xx` }, 401, 'PULSE_ERR_UNAUTHENTICATED'],
      ['/v1/kpis', { authorization: `Bearer ${ingest}` }, 403, 'PULSE_ERR_FORBIDDEN'],
      ['/v1/kpis', { authorization: `Bearer ${seller}` }, 200],
      ['/v1/kpis?window=week', {}, 400, 'PULSE_ERR_INVALID_PARAMETER'],
      ['/v1/kpis?window=today&colour=red', {}, 400, 'PULSE_ERR_INVALID_PARAMETER'],
      ['/v1/kpis?window=today&window=1h', {}, 400, 'PULSE_ERR_INVALID_PARAMETER'],
      ['/v1/kpis/no_such_kpi', {}, 404],
      ['/v1/kpis/net_revenue?by=planet', {}, 400, 'PULSE_ERR_INVALID_PARAMETER'],
      ['/v1/kpis?currency=USD', {}, 400, 'PULSE_ERR_INVALID_PARAMETER'],
    ];
    for (const [path, headers, status, code] of cases) {
      const response = await get(path, headers);
      const text = await response.text();
      assert.equal(response.status, status, `${path} ${JSON.stringify(headers)}: ${text}`);
      if (code) assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, code, path);
    }
    const head = await pulse.fetch(`${pulse.url}/v1/kpis`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await laneAnswers(pulse)) - counted, 0, 'none of these went through the lane');
  });

  it('takes the key from X-API-Key as the API does', async () => {
    const counted = await laneAnswers(pulse);
    const response = await fetch(`${pulse.url}/v1/kpis`, { headers: { 'x-api-key': reader } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), JSON.parse(JSON.stringify({ kpis: pulse.live.all('today') })));
    assert.equal((await laneAnswers(pulse)) - counted, 1);
  });

  it('gives a fresh request id when the caller sends one that is not a sane token', async () => {
    const response = await get('/v1/kpis', { 'x-request-id': 'two words' });
    await response.arrayBuffer();
    assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
  });
});

describe('live read lane and the rate limit', () => {
  const LIMIT = 3;
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse({
      now: () => NOW,
      refreshDebounceMs: 10,
      ratePerKey: LIMIT,
      rateWindowMs: 3_600_000,
    });
    await postOrders(pulse, 1);
  });
  after(async () => pulse?.dispose());

  it('spends the key budget the API spends, and a spent budget is answered 429 by the API', async () => {
    const reader = await pulse.keyFor('read');
    const remaining: string[] = [];
    for (let i = 0; i < LIMIT; i += 1) {
      const response = await fetch(`${pulse.url}/v1/kpis`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      await response.arrayBuffer();
      assert.equal(response.status, 200);
      remaining.push(response.headers.get('x-ratelimit-remaining') ?? '');
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const refused = await fetch(`${pulse.url}/v1/kpis`, { headers: { authorization: `Bearer ${reader}` } });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'PULSE_ERR_RATE_LIMITED',
    );
  });
});

describe('live read lane with request logs on', () => {
  let pulse: TestPulse;
  const lines: string[] = [];
  before(async () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    pulse = await startTestPulse({ now: () => NOW, refreshDebounceMs: 10, logLevel: 'info', logStream });
    await postOrders(pulse, 1);
  });
  after(async () => pulse?.dispose());

  it('steps aside: every read is routed and logged', async () => {
    const response = await pulse.fetch(`${pulse.url}/v1/kpis`, {
      headers: { 'x-request-id': 'logged-read' },
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal(await laneAnswers(pulse), 0);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(
      logged.some((entry) => entry.correlation_id === 'logged-read' && entry.msg === 'request completed'),
      'the read has its request log line',
    );
  });
});
