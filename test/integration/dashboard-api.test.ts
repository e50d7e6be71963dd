import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const HOUR_MS = 3_600_000;

/** An order placed at `placedAt`: quantity × unit price − tax (no discount) in EUR. */
function order(
  orderId: string,
  placedAt: Date,
  o: { quantity: number; unitPrice: number; tax: number; channel?: string; seller?: string },
) {
  const event = orderEvent({
    orderId,
    placedAt: placedAt.toISOString(),
    quantity: o.quantity,
    unitPrice: o.unitPrice,
  });
  const line = { ...event.data.lines[0]!, tax: o.tax };
  return {
    ...event,
    data: {
      ...event.data,
      channel: o.channel ?? 'web',
      ...(o.seller ? { seller_id: o.seller } : {}),
      lines: [line],
    },
  };
}

describe('dashboard API: drill-through, forecast, comments, static app', () => {
  let pulse: TestPulse;
  let sellerKey: string;
  let readKey: string;
  // The last complete hour when the fixture was posted: forecasts start there.
  let hour: number;
  before(async () => {
    pulse = await startTestPulse();
    const now = Date.now();
    hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    // Today in Paris, in the current hour: C at its first instant at the earliest, A and B 1 ms later
    // (newer). C one millisecond before `recent` fell in the previous hour when the fixture was
    // posted in an hour's first minute, and added a seasonal difference to the forecast's band.
    const recent = new Date(Math.max(now - 60_000, hour));
    const newer = new Date(recent.getTime() + 1);
    const events = [
      // Today: A web 2 × 10 − 2 = 18.00; B marketplace seller S1 1 × 30 − 5 = 25.00; C web 3 × 1 − 0 = 3.00.
      order('A', newer, { quantity: 2, unitPrice: 10, tax: 2 }),
      order('B', newer, { quantity: 1, unitPrice: 30, tax: 5, channel: 'marketplace', seller: 'S1' }),
      order('C', recent, { quantity: 3, unitPrice: 1, tax: 0 }),
      // One day and two days before the current hour's bucket: 18.00 each.
      order('D1', new Date(hour - 24 * HOUR_MS + 300_000), { quantity: 2, unitPrice: 10, tax: 2 }),
      order('D2', new Date(hour - 48 * HOUR_MS + 300_000), { quantity: 2, unitPrice: 10, tax: 2 }),
    ];
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    await pulse.refresh();
    sellerKey = await pulse.keyFor('seller:S1');
    readKey = await pulse.keyFor('read');
  });
  after(async () => pulse?.dispose());

  const get = async (path: string, key = pulse.key) => {
    const response = await fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('drills from a channel value down to its order lines, without personal data', async () => {
    const { status, body } = await get(
      '/v1/kpis/net_revenue/records?window=today&dimension=channel&value=web',
    );
    assert.equal(status, 200, JSON.stringify(body));
    const rows = body.rows as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => [r.record, r.order_id, r.line_no, r.sku, r.quantity, r.amount_eur, r.channel]),
      [
        ['order_line', 'A', 1, 'SKU-1', 2, '18.00', 'web'],
        ['order_line', 'C', 1, 'SKU-1', 3, '3.00', 'web'],
      ],
    );
    assert.equal(body.next_offset, null);
    const text = JSON.stringify(body);
    for (const secret of ['customer_token', 'jane', 'Jane', 'C-42', '+33'])
      assert.ok(!text.includes(secret), secret);
  });

  it('pages through the records in a stable order', async () => {
    const first = await get('/v1/kpis/net_revenue/records?window=today&limit=2');
    assert.deepEqual(
      (first.body.rows as { order_id: string }[]).map((r) => r.order_id),
      ['A', 'B'],
    );
    assert.equal(first.body.next_offset, 2);
    const second = await get('/v1/kpis/net_revenue/records?window=today&limit=2&offset=2');
    assert.deepEqual(
      (second.body.rows as { order_id: string }[]).map((r) => r.order_id),
      ['C'],
    );
    assert.equal(second.body.next_offset, null);
  });

  it("confines a seller's drill-through to its own records", async () => {
    const mine = await get('/v1/kpis/net_revenue/records?window=today', sellerKey);
    assert.deepEqual(
      (mine.body.rows as { order_id: string; amount_eur: string }[]).map((r) => [r.order_id, r.amount_eur]),
      [['B', '25.00']],
    );
    const other = await get(
      '/v1/kpis/net_revenue/records?window=today&dimension=channel&value=web',
      sellerKey,
    );
    assert.deepEqual(other.body.rows, []);
    assert.equal((await get('/v1/kpis/conversion_rate/records?window=today', sellerKey)).status, 403);
  });

  it('answers bad drill-through input with the field at fault', async () => {
    const cases: [string, string][] = [
      ['/v1/kpis/net_revenue/records?limit=0', 'limit'],
      ['/v1/kpis/net_revenue/records?limit=501', 'limit'],
      ['/v1/kpis/net_revenue/records?offset=-1', 'offset'],
      ['/v1/kpis/net_revenue/records?value=web', 'value'],
      ['/v1/kpis/conversion_rate/records?dimension=brand&value=x', 'by'],
      ['/v1/kpis/net_revenue/records?from=yesterday', 'from'],
      ['/v1/kpis/inventory_risk/records', 'id'],
    ];
    for (const [path, field] of cases) {
      const { status, body } = await get(path);
      assert.equal(status, 400, path);
      assert.equal((body.error as { field?: string }).field, field, `${path}: ${JSON.stringify(body)}`);
    }
    assert.equal((await get('/v1/kpis/net_revenue/records?dimension=planet')).status, 400);
    assert.equal((await get('/v1/kpis/nope/records')).status, 404);
  });

  it('forecasts the next hour as the same hour yesterday, with a band from the seasonal differences', async () => {
    const { status, body } = await get('/v1/kpis/net_revenue/forecast?grain=hour&horizon=2');
    assert.equal(status, 200, JSON.stringify(body));
    // Skip the check if the clock crossed an hour since the fixture was placed (its buckets moved).
    if ((body.history as { to: string }).to !== new Date(hour).toISOString()) return;
    // History: 168 hourly buckets up to this hour. Non-zero: 18 at hour−48 h and at hour−24 h. Of the
    // 144 seasonal differences only one is non-zero: (hour−48 h) − (hour−72 h) = 18, so
    // σ = √(18² / 144) = 1.5 and the band is ±1.2816 × 1.5 = ±1.9224.
    assert.equal(body.sigma, 1.5);
    const points = body.points as { ts: string; value: number; lower: number; upper: number }[];
    assert.equal(points[0]!.ts, new Date(hour).toISOString());
    assert.equal(points[0]!.value, 18);
    assert.ok(Math.abs(points[0]!.lower - 16.0776) < 1e-9);
    assert.ok(Math.abs(points[0]!.upper - 19.9224) < 1e-9);
    assert.equal(points[1]!.value, 0);
    assert.equal(points[1]!.ts, new Date(hour + HOUR_MS).toISOString());
    const bad = await get('/v1/kpis/net_revenue/forecast?grain=hour&horizon=49');
    assert.equal((bad.body.error as { field: string }).field, 'horizon');
    assert.equal((await get('/v1/kpis/net_revenue/forecast?grain=minute')).status, 400);
  });

  it('keeps comments with the author taken from the key, and refuses bad ones', async () => {
    const post = (body: unknown, key = readKey) =>
      fetch(`${pulse.url}/v1/kpis/net_revenue/comments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const hostile = '<img src=x onerror="alert(1)"> dip after the promo';
    const created = await post({ body: hostile, author: 'someone else' });
    assert.equal(created.status, 400, 'an author field is refused: the key names the author');
    const ok = await post({ body: hostile });
    assert.equal(ok.status, 201);
    const listed = await get('/v1/kpis/net_revenue/comments');
    const comments = listed.body.comments as { author: string; body: string }[];
    assert.deepEqual(
      comments.map((c) => [c.author, c.body]),
      [['test read', hostile]],
    );
    assert.equal((await post({ body: 'x'.repeat(2001) })).status, 400);
    assert.equal((await post({ body: '   ' })).status, 400);
    assert.equal((await post({ body: 42 })).status, 400);
    assert.equal((await post({ body: 'mine' }, sellerKey)).status, 403);
    assert.equal((await get('/v1/kpis/net_revenue/comments', sellerKey)).status, 403);
    assert.equal((await get('/v1/kpis/nope/comments')).status, 404);
    assert.deepEqual((await get('/v1/kpis/return_rate/comments')).body.comments, []);
  });

  it('serves the dashboard under /app/ with a CSP allowing its own scripts only', async () => {
    const page = await fetch(`${pulse.url}/app/`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await page.text();
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${pulse.url}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    // The API keeps its strict policy.
    const api = await fetch(`${pulse.url}/v1/kpis`, { headers: pulse.auth });
    assert.equal(api.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    const me = await get('/v1/me', sellerKey);
    assert.equal(me.body.seller_id, 'S1');
    assert.equal((await fetch(`${pulse.url}/app/../package.json`)).status, 404);
  });
});
