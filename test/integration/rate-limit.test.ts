import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

const LIMIT = 5;

/** Requests per API key per window: a key over its budget gets 429, others keep theirs. */
describe('rate limit per API key', () => {
  let pulse: TestPulse;
  let reader: string;
  let other: string;

  before(async () => {
    // One hour: the window cannot roll over while the test runs, however loaded the machine.
    pulse = await startTestPulse({ ratePerKey: LIMIT, rateWindowMs: 3_600_000 });
    reader = await pulse.keyFor('read', 'ingest');
    other = await pulse.keyFor('read');
  });
  after(async () => pulse?.dispose());

  const get = (path: string, key?: string) =>
    fetch(`${pulse.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it(`allows ${LIMIT} requests per key, then answers 429 with Retry-After and PULSE_ERR_RATE_LIMITED`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i += 1) {
      const response = await get('/v1/kpis', reader);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, Array(LIMIT).fill(200));
    const refused = await get('/v1/kpis', reader);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers.get('x-ratelimit-limit'), String(LIMIT));
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'PULSE_ERR_RATE_LIMITED');
    assert.match(body.error.message, /5 requests per 3600 s/);
    // Ingest with the same key is refused too: the budget is the key's, not the route's.
    const ingest = await fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(ingest.status, 429);
  });

  it('keeps a separate budget for every other key', async () => {
    const response = await get('/v1/kpis', other);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-ratelimit-remaining'), String(LIMIT - 1));
  });

  it('counts anonymous requests (public routes) per client IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i += 1) {
      const response = await get('/healthz');
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [...Array(LIMIT).fill(200), 429]);
  });

  it('does not charge a request refused for a missing or unknown key to anyone', async () => {
    for (let i = 0; i < LIMIT + 2; i += 1) {
      const response = await get('/v1/kpis', 'pk_nope_0000000000000000000000000000');
      await response.arrayBuffer();
      assert.equal(response.status, 401);
    }
    const response = await get('/v1/kpis', other);
    assert.equal(response.headers.get('x-ratelimit-remaining'), String(LIMIT - 2));
  });
});
