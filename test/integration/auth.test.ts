import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/security/index.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const WINDOW = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';

function marketplaceOrder(orderId: string, sellerId: string, unitPrice: number, placedAt?: string) {
  const event = orderEvent({ orderId, unitPrice, quantity: 1, placedAt });
  return { ...event, data: { ...event.data, channel: 'marketplace', seller_id: sellerId } };
}

describe('API keys and roles', () => {
  let pulse: TestPulse;
  const expired = generateKey('expired', ['read'], new Date('2020-01-01T00:00:00Z'));
  before(async () => {
    pulse = await startTestPulse();
  });
  after(async () => pulse?.dispose());

  const get = (path: string, key?: string) =>
    fetch(`${pulse.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});

  it('refuses a request without a key, with a bad key, or with an unknown key', async () => {
    const none = await get('/v1/kpis');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="pulse"');
    assert.equal(
      ((await none.json()) as { error: { code: string } }).error.code,
      'PULSE_ERR_UNAUTHENTICATED',
    );
    assert.equal((await get('/v1/kpis', 'let-me-in')).status, 401);
    const unknown = generateKey('never stored', ['admin']);
    const answer = await get('/v1/kpis', unknown.key);
    assert.equal(answer.status, 401);
    assert.match(((await answer.json()) as { error: { message: string } }).error.message, /not known/);
    const post = await fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(post.status, 401);
  });

  it('leaves the docs and health open', async () => {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 200);
    assert.equal((await get('/docs/json')).status, 200);
  });

  it('lets each role do its part and nothing else', async () => {
    const reader = await pulse.keyFor('read');
    const ingester = await pulse.keyFor('ingest');
    assert.equal((await get('/v1/kpis', reader)).status, 200);
    assert.equal((await get('/metrics', reader)).status, 200);
    const readerPost = await fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(orderEvent({ orderId: 'AUTH-1' })),
    });
    assert.equal(readerPost.status, 403);
    assert.equal(
      ((await readerPost.json()) as { error: { code: string } }).error.code,
      'PULSE_ERR_FORBIDDEN',
    );
    const ingest = await fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { 'x-api-key': ingester, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(orderEvent({ orderId: 'AUTH-2' })),
    });
    assert.equal(ingest.status, 200);
    assert.equal((await get('/v1/kpis', ingester)).status, 403);
    assert.equal((await get('/v1/keys', reader)).status, 403, 'only admins manage keys');
  });

  it('lets a key ask HEAD wherever it may GET, and nowhere else', async () => {
    const reader = await pulse.keyFor('read');
    const ingester = await pulse.keyFor('ingest');
    const head = (path: string, key: string) =>
      fetch(`${pulse.url}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${key}` } });
    const readerKpis = await head('/v1/kpis', reader);
    assert.equal(readerKpis.status, 200);
    assert.equal(await readerKpis.text(), '', 'a HEAD answer has no body');
    assert.equal((await head('/v1/kpis', ingester)).status, 403);
    assert.equal((await head('/v1/keys', reader)).status, 403, 'only admins manage keys');
  });

  it('stops accepting a revoked key, lists keys without secrets, and refuses bad roles', async () => {
    const key = await pulse.keyFor('read');
    assert.equal((await get('/v1/kpis', key)).status, 200);
    const id = key.split('_')[1] as string;
    const listed = (await (await pulse.fetch(`${pulse.url}/v1/keys`)).json()) as {
      keys: Record<string, unknown>[];
    };
    const entry = listed.keys.find((k) => k.id === id);
    assert.deepEqual(entry?.roles, ['read']);
    const secret = key.slice(`pulse_${id}_`.length); // base64url: may itself contain '_'
    assert.ok(secret.length >= 40 && !JSON.stringify(listed).includes(secret), 'no secret in the listing');
    assert.equal((await pulse.fetch(`${pulse.url}/v1/keys/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await get('/v1/kpis', key)).status, 401);
    const bad = await pulse.fetch(`${pulse.url}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', roles: ['superuser'] }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'roles');
  });

  it('refuses an expired key', async () => {
    const other = await startTestPulse({ apiKeys: [expired.stored] });
    try {
      const answer = await fetch(`${other.url}/v1/kpis`, {
        headers: { authorization: `Bearer ${expired.key}` },
      });
      assert.equal(answer.status, 401);
      assert.match(((await answer.json()) as { error: { message: string } }).error.message, /expired/);
    } finally {
      await other.dispose();
    }
  });
});

describe('a marketplace seller', () => {
  let pulse: TestPulse;
  let seller: string;
  before(async () => {
    pulse = await startTestPulse();
    // Line net = 1 × price − 2.00 tax: S1 sells 100.00 and 50.00 → 98.00 + 48.00 = 146.00;
    // S2 sells 300.00 → 298.00; a web order of 10.00 → 8.00 has no seller. All: 452.00.
    const events = [
      marketplaceOrder('M-1', 'S1', 100),
      marketplaceOrder('M-2', 'S1', 50),
      marketplaceOrder('M-3', 'S2', 300),
      orderEvent({ orderId: 'W-1', unitPrice: 10, quantity: 1 }),
      // Within the last 24 hours: S1 20.00 → 18.00, S2 40.00 → 38.00.
      marketplaceOrder('M-4', 'S1', 20, new Date(Date.now() - 60_000).toISOString()),
      marketplaceOrder('M-5', 'S2', 40, new Date(Date.now() - 60_000).toISOString()),
    ];
    const answer = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(answer.body.accepted, 6);
    await pulse.refresh();
    seller = await pulse.keyFor('seller:S1');
  });
  after(async () => pulse?.dispose());

  const get = (path: string) =>
    fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${seller}` } });

  it('sees only its own revenue, in totals and breakdowns', async () => {
    const total = (await (await get(`/v1/kpis/net_revenue?${WINDOW}`)).json()) as { value: string };
    assert.equal(total.value, '146.00');
    const everyone = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${WINDOW}`)).json()) as {
      value: string;
    };
    assert.equal(everyone.value, '452.00');
    const bySeller = (await (await get(`/v1/kpis/net_revenue?${WINDOW}&by=seller`)).json()) as {
      breakdown: { key: string; value: string }[];
    };
    assert.deepEqual(
      bySeller.breakdown.map((p) => [p.key, p.value]),
      [['S1', '146.00']],
    );
    const byChannel = (await (await get(`/v1/kpis/net_revenue?${WINDOW}&by=channel`)).json()) as {
      breakdown: { key: string; value: string }[];
    };
    assert.deepEqual(
      byChannel.breakdown.map((p) => [p.key, p.value]),
      [['marketplace', '146.00']],
    );
  });

  it('gets only the KPIs that exist per seller, and 403 for the others', async () => {
    const list = (await (await get(`/v1/kpis?${WINDOW}`)).json()) as {
      kpis: { id: string; value: unknown }[];
    };
    assert.deepEqual(
      list.kpis.map((k) => k.id),
      ['net_revenue', 'fulfilment_sla', 'return_rate'],
    );
    assert.equal(list.kpis[0]?.value, '146.00');
    const conversion = await get(`/v1/kpis/conversion_rate?${WINDOW}`);
    assert.equal(conversion.status, 403);
  });

  it('streams its own values only, with the key as access_token', async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5_000);
    const response = await fetch(`${pulse.url}/v1/stream?kpi=net_revenue&window=24h&access_token=${seller}`, {
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\ndata') && !/data: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    clearTimeout(timer);
    controller.abort();
    const data = JSON.parse(/data: (.*)\n/.exec(text)?.[1] ?? '{}') as { id: string; value: string };
    assert.equal(data.id, 'net_revenue');
    assert.equal(data.value, '18.00');
    const all = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?window=24h`)).json()) as {
      value: string;
    };
    assert.equal(all.value, '56.00');
  });
});
