import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { order } from '../support/quality.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

const RANGE = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';

interface Entry {
  id: number;
  event_id: string | null;
  event_type: string | null;
  rule: string;
  field: string;
  message: string;
  status: string;
  updated_by: string | null;
  payload: { data: Record<string, unknown> };
}

/** POST /v1/quarantine/replay with the admin key (or `key`): status and JSON body. */
async function replayOn(pulse: TestPulse, body: unknown, key?: string) {
  const response = await fetch(`${pulse.url}/v1/quarantine/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key ?? pulse.key}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('quarantine: filters, remediation and replay', () => {
  let pulse: TestPulse;

  before(async () => {
    pulse = await startTestPulse();
    const good = order('R-GOOD', { unitPrice: 20 }); // net 20.00
    const zero = order('R-ZERO', { quantity: 0, unitPrice: 15, tax: 1 }); // fails: quantity must be ≥ 1
    const alsoZero = order('R-ZERO-2', { quantity: 0, unitPrice: 7 });
    const badCurrency = { ...order('R-CUR'), data: { ...order('R-CUR').data, currency: 'EURO' } };
    const posted = await pulse.post(
      JSON.stringify([good, zero, alsoZero, badCurrency]),
      'application/cloudevents-batch+json',
    );
    assert.equal(posted.body.accepted, 1);
    assert.equal(posted.body.quarantined, 3);
    await pulse.refresh();
  });
  after(async () => pulse?.dispose());

  const list = async (
    query = '',
  ): Promise<{ status: number; body: { entries: Entry[]; next_after: string | null } }> => {
    const response = await pulse.fetch(`${pulse.url}/v1/quarantine${query}`);
    return { status: response.status, body: (await response.json()) as never };
  };
  const replay = (body: unknown, key?: string) => replayOn(pulse, body, key);
  const netRevenue = async () =>
    ((await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${RANGE}`)).json()) as { value: string })
      .value;

  it('lists the quarantined events with their rule and field, personal data redacted', async () => {
    const all = await list();
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.entries.map((e) => [e.event_id, e.field, e.status]),
      [
        ['evt-R-ZERO', 'data.lines[0].quantity', 'open'],
        ['evt-R-ZERO-2', 'data.lines[0].quantity', 'open'],
        ['evt-R-CUR', 'data.currency', 'open'],
      ],
    );
    const first = all.body.entries[0] as Entry;
    assert.equal(first.payload.data.customer_id, undefined);
    assert.equal(typeof first.payload.data.customer_token, 'string');
    assert.equal(first.payload.data.email, '[redacted]');
  });

  it('filters by field, rule, type and time, and pages by id', async () => {
    const byField = await list(`?field=${encodeURIComponent('data.currency')}`);
    assert.deepEqual(
      byField.body.entries.map((e) => e.event_id),
      ['evt-R-CUR'],
    );
    const rule = byField.body.entries[0]?.rule as string;
    assert.deepEqual(
      (await list(`?rule=${rule}`)).body.entries.map((e) => e.event_id),
      ['evt-R-CUR'],
    );
    assert.equal((await list('?type=order.placed')).body.entries.length, 3);
    assert.equal((await list('?type=session.started')).body.entries.length, 0);
    assert.equal((await list('?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z')).body.entries.length, 0);
    const page1 = await list('?limit=2');
    assert.equal(page1.body.entries.length, 2);
    assert.ok(page1.body.next_after);
    const page2 = await list(`?limit=2&after=${page1.body.next_after}`);
    assert.deepEqual(
      page2.body.entries.map((e) => e.event_id),
      ['evt-R-CUR'],
    );
    assert.equal(page2.body.next_after, null);
  });

  it('refuses bad filters naming the field', async () => {
    const cases: [string, string][] = [
      ['?colour=red', 'colour'],
      ['?limit=abc', 'limit'],
      ['?limit=0', 'limit'],
      ['?from=yesterday', 'from'],
      ['?status=gone', 'status'],
    ];
    for (const [query, field] of cases) {
      const response = await pulse.fetch(`${pulse.url}/v1/quarantine${query}`);
      assert.equal(response.status, 400, query);
      const body = (await response.json()) as { error: { code: string; field: string } };
      assert.equal(body.error.code, 'PULSE_ERR_INVALID_PARAMETER', query);
      assert.equal(body.error.field, field, query);
    }
  });

  it('keeps sellers and readers out of the quarantine', async () => {
    const seller = await pulse.keyFor('seller:M-1' as never);
    const reader = await pulse.keyFor('read');
    for (const key of [seller, reader]) {
      const response = await fetch(`${pulse.url}/v1/quarantine`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(response.status, 403);
      assert.equal((await replay({ ids: [0] }, key)).status, 403);
    }
    const sellerQuality = await fetch(`${pulse.url}/v1/quality`, {
      headers: { authorization: `Bearer ${seller}` },
    });
    assert.equal(sellerQuality.status, 403);
    const readerQuality = await fetch(`${pulse.url}/v1/quality`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    assert.equal(readerQuality.status, 200);
  });

  it('refuses malformed replay requests naming the field', async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, 'ids'],
      [{ ids: 'all' }, 400, 'ids'],
      [{ ids: [1], fix: { set: { 'data..x': 1 } } }, 400, 'fix'],
      [{ ids: [1], fix: { set: { '__proto__.x': 1 } } }, 400, 'fix'],
      [{ ids: [1, 2], payload: { a: 1 } }, 400, 'ids'],
      [{ ids: [1], colour: 'red' }, 400, 'colour'],
      [{ filter: { colour: 'red' } }, 400, 'filter.colour'],
      [{ ids: [999999] }, 404, 'ids'],
    ];
    for (const [body, status, field] of cases) {
      const answer = await replay(body);
      assert.equal(answer.status, status, JSON.stringify(body));
      assert.equal((answer.body.error as { field: string }).field, field, JSON.stringify(body));
    }
    const huge = await replay({ ids: [1], fix: { set: { 'data.note': 'x'.repeat(2 * 1024 * 1024) } } });
    assert.equal(huge.status, 413);
    assert.equal((huge.body.error as { code: string }).code, 'PULSE_ERR_BODY_TOO_LARGE');
    const notJson = await replay('{ids:');
    assert.equal(notJson.status, 400);
  });

  it('a fix that still fails leaves the entry open with its new reason', async () => {
    const [entry] = (await list('?field=data.currency')).body.entries as [Entry];
    const answer = await replay({ ids: [entry.id], fix: { set: { 'data.currency': 'EU' } } });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.failed, 1);
    const [after] = (await list(`?field=data.currency`)).body.entries as [Entry];
    assert.equal(after.id, entry.id);
    assert.equal(after.status, 'open');
    assert.equal(after.field, 'data.currency');
    assert.notEqual(after.message, '');
  });

  it('replays a corrected event: accepted, remediated (never deleted), and the KPI moves by its amount', async () => {
    assert.equal(await netRevenue(), '20.00');
    // The mapping applied to every event quarantined on that field: quantity 0 → 3 and 2.
    const zero = (await list('?field=data.lines%5B0%5D.quantity')).body.entries;
    const first = await replay({ ids: [zero[0]?.id], fix: { set: { 'data.lines[*].quantity': 3 } } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual([first.body.accepted, first.body.failed], [1, 0]);
    const second = await replay({
      ids: [zero[1]?.id],
      fix: {
        rename: { 'data.lines[0].quantity': 'data.lines[0].qty' },
        set: { 'data.lines[0].quantity': 2 },
        remove: ['data.lines[0].qty'],
      },
    });
    assert.equal(second.body.accepted, 1, JSON.stringify(second.body));
    await pulse.refresh();
    // 20.00 + (3 × 15 − 0 − 1) + (2 × 7 − 0 − 0) = 20 + 44 + 14 = 78.00
    assert.equal(await netRevenue(), '78.00');
    const remediated = (await list('?status=remediated')).body.entries;
    assert.deepEqual(
      remediated.map((e) => [e.event_id, e.status]),
      [
        ['evt-R-ZERO', 'remediated'],
        ['evt-R-ZERO-2', 'remediated'],
      ],
    );
    assert.ok(remediated.every((e) => e.updated_by?.length));
    const stored = await pulse.sql(`SELECT count(*)::INTEGER AS n FROM quarantine`);
    assert.equal(stored[0]?.n, 3, 'nothing leaves the quarantine table');
    const audit = await pulse.sql(
      `SELECT key_id, outcome, fix FROM quarantine_remediations WHERE event_id = 'evt-R-ZERO' ORDER BY replayed_at`,
    );
    assert.deepEqual(
      audit.map((r) => [r.outcome, JSON.parse(String(r.fix))]),
      [['accepted', { set: { 'data.lines[*].quantity': 3 } }]],
    );
    assert.ok(String(audit[0]?.key_id).length > 0);
    // The customer token was kept as is, never tokenised twice.
    const tokens = await pulse.sql(`SELECT DISTINCT customer_token FROM silver_orders`);
    assert.equal(tokens.length, 1);
    // A remediated entry is not replayed again.
    assert.equal((await replay({ ids: [zero[0]?.id] })).status, 404);
  });

  it('replaces one event by a corrected payload', async () => {
    const [entry] = (await list('?field=data.currency')).body.entries as [Entry];
    const payload = structuredClone(entry.payload) as { data: Record<string, unknown> };
    payload.data.currency = 'EUR';
    const answer = await replay({ ids: [entry.id], payload });
    assert.equal(answer.body.accepted, 1, JSON.stringify(answer.body));
    await pulse.refresh();
    // + 1 × 10 (the helper's defaults) = 88.00
    assert.equal(await netRevenue(), '88.00');
  });
});

describe('quarantine: one mapping repairs many events, each keeping its own values', () => {
  let pulse: TestPulse;

  before(async () => {
    pulse = await startTestPulse();
  });
  after(async () => pulse?.dispose());

  it('converts numbers sent as strings and maps country names to codes, then replays them', async () => {
    const withLine = (id: string, quantity: unknown, country: string) => {
      const event = order(id, { unitPrice: 10 });
      return {
        ...event,
        data: { ...event.data, country, lines: [{ ...event.data.lines[0], quantity }] },
      };
    };
    const events = [
      withLine('M-1', '2', 'FR'), // a number as a string
      withLine('M-2', 3, 'France'), // a country name
      withLine('M-3', ' 4 ', 'Germany'), // both, with spaces
      withLine('M-4', 'two', 'Spain'), // neither converts nor maps: stays quarantined
    ];
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.body.quarantined, 4, JSON.stringify(posted.body));
    const open = (await (await pulse.fetch(`${pulse.url}/v1/quarantine?status=open`)).json()) as {
      entries: Entry[];
    };
    const answer = await replayOn(pulse, {
      ids: open.entries.map((e) => e.id),
      fix: {
        convert: { 'data.lines[*].quantity': 'integer' },
        map: { 'data.country': { France: 'FR', Germany: 'DE' } },
      },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual([answer.body.accepted, answer.body.failed], [3, 1]);
    await pulse.refresh();
    // Each order kept its own quantity: 2 × 10 + 3 × 10 + 4 × 10 = 90.00 (no tax, no discount).
    const revenue = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${RANGE}`)).json()) as {
      value: string;
    };
    assert.equal(revenue.value, '90.00');
    const countries = await pulse.sql(`SELECT order_id, country FROM silver_orders ORDER BY order_id`);
    assert.deepEqual(
      countries.map((r) => [r.order_id, r.country]),
      [
        ['M-1', 'FR'],
        ['M-2', 'FR'],
        ['M-3', 'DE'],
      ],
    );
    const still = (await (await pulse.fetch(`${pulse.url}/v1/quarantine?status=open`)).json()) as {
      entries: Entry[];
    };
    assert.deepEqual(
      still.entries.map((e) => [e.event_id, e.field]),
      // Still open, with the first field its contract finds wrong: the unmapped country.
      [['evt-M-4', 'data.country']],
    );
    // A conversion the fix does not know is refused before anything is replayed, naming the field.
    const bad = await replayOn(pulse, {
      ids: [still.entries[0]?.id],
      fix: { convert: { 'data.lines[*].quantity': 'float' } },
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /fix/);
  });
});
