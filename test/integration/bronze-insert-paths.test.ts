import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BronzeWriter, type CommitRequest } from '../../src/warehouse/bronze-writer.js';
import { openWarehouse, type Warehouse } from '../../src/warehouse/index.js';
import { JSON_INSERT_MAX_CHARS, JSON_INSERT_MAX_ROWS, JsonInsert } from '../../src/warehouse/json-insert.js';
import { queryRows } from '../../src/warehouse/query.js';

/** Strings JSON must escape, and ones it passes as they are. */
const AWKWARD = [
  'plain',
  'quote " and \\ backslash',
  'nul\u0000inside',
  'tab\tline\nend',
  'é 😀 中文',
  "it's",
];

/** `count` events with ids `${prefix}-N` whose data and source cycle through AWKWARD. */
function request(prefix: string, count: number, quarantined = 0): CommitRequest {
  return {
    batchId: `batch-${prefix}`,
    sourceKind: 'http',
    receivedAt: new Date('2026-11-30T10:00:00.123Z'),
    events: Array.from({ length: count }, (_, i) => ({
      id: `${prefix}-${i}`,
      type: 'session.started',
      source: AWKWARD[i % AWKWARD.length] as string,
      time: i % 5 === 0 ? null : '2026-11-30T09:59:00.5+01:00',
      data: JSON.stringify({ n: i, text: AWKWARD[i % AWKWARD.length], amount: '12.50' }),
    })),
    quarantined: Array.from({ length: quarantined }, (_, i) => ({
      eventId: i % 2 === 0 ? null : `${prefix}-bad-${i}`,
      eventType: i % 3 === 0 ? null : 'order.placed',
      rule: 'contract',
      field: 'data.amount',
      message: AWKWARD[i % AWKWARD.length] as string,
      payload: JSON.stringify({ i, text: AWKWARD[i % AWKWARD.length] }),
    })),
  };
}

/** Bronze and quarantine rows of one batch, every column as text, the id's prefix cut off. */
async function stored(
  warehouse: Warehouse,
  prefix: string,
): Promise<{ bronze: string[]; quarantine: string[] }> {
  const bronze = await queryRows(
    warehouse.reader,
    `SELECT replace(event_id, $p, '') || '|' || event_type || '|' || source || '|' || coalesce(event_time::VARCHAR, 'null')
            || '|' || ingested_at::VARCHAR || '|' || data AS line
     FROM bronze_events WHERE batch_id = $b ORDER BY ingest_seq`,
    { p: `${prefix}-`, b: `batch-${prefix}` },
  );
  const quarantine = await queryRows(
    warehouse.reader,
    `SELECT received_at::VARCHAR || '|' || source_kind || '|' || coalesce(replace(event_id, $p, ''), 'null') || '|'
            || coalesce(event_type, 'null') || '|' || rule || '|' || field || '|' || message || '|' || payload AS line
     FROM quarantine WHERE batch_id = $b ORDER BY quarantine_id`,
    { p: `${prefix}-`, b: `batch-${prefix}` },
  );
  return { bronze: bronze.map((r) => String(r.line)), quarantine: quarantine.map((r) => String(r.line)) };
}

/** Counts the rows each JSON insert is given while `body` runs (the appender path gives none). */
async function jsonInserts(body: () => Promise<void>): Promise<number[]> {
  const original = Object.getOwnPropertyDescriptor(JsonInsert.prototype, 'insert')
    ?.value as JsonInsert['insert'];
  const calls: number[] = [];
  JsonInsert.prototype.insert = function (this: JsonInsert, columns) {
    calls.push(columns[0]?.length ?? 0);
    return original.call(this, columns);
  };
  try {
    await body();
  } finally {
    JsonInsert.prototype.insert = original;
  }
  return calls;
}

describe('bronze insert paths', () => {
  let dir: string;
  let warehouse: Warehouse;
  let writer: BronzeWriter;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-insert-paths-'));
    warehouse = await openWarehouse({ path: join(dir, 'pulse.duckdb') });
    writer = await BronzeWriter.open(warehouse.writer);
  });
  after(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a small group (JSON text) exactly as a large one (appender)', async () => {
    let small = await writer.submit(request('warm', 1));
    let large = small;
    // The small group's staging and quarantine rows go as JSON text; the large group's through appenders.
    assert.deepEqual(
      await jsonInserts(async () => {
        small = await writer.submit(request('small', 12, 6));
        large = await writer.submit(request('large', JSON_INSERT_MAX_ROWS + 40, JSON_INSERT_MAX_ROWS + 4));
      }),
      [6, 12],
    );
    assert.deepEqual([small.accepted, small.quarantined], [12, 6]);
    assert.deepEqual(
      [large.accepted, large.quarantined],
      [JSON_INSERT_MAX_ROWS + 40, JSON_INSERT_MAX_ROWS + 4],
    );
    const a = await stored(warehouse, 'small');
    const b = await stored(warehouse, 'large');
    assert.equal(a.bronze.length, 12);
    assert.deepEqual(a.bronze, b.bronze.slice(0, 12));
    assert.deepEqual(a.quarantine, b.quarantine.slice(0, 6));
    // Values as written by hand: the escapes survive, the time is UTC, a missing time is NULL.
    assert.equal(
      a.bronze[1],
      `1|session.started|quote " and \\ backslash|2026-11-30 08:59:00.5+00|2026-11-30 10:00:00.123+00|` +
        `{"n":1,"text":"quote \\" and \\\\ backslash","amount":"12.50"}`,
    );
    assert.match(a.bronze[0] as string, /^0\|session\.started\|plain\|null\|/);
    assert.equal(a.bronze[2]?.split('|')[2], 'nul\u0000inside');
    assert.equal(a.bronze[4]?.split('|')[2], 'é 😀 中文');
    assert.equal(
      a.quarantine[1],
      `2026-11-30 10:00:00.123+00|http|bad-1|order.placed|contract|data.amount|quote " and \\ backslash|` +
        `{"i":1,"text":"quote \\" and \\\\ backslash"}`,
    );
    assert.match(a.quarantine[0] as string, /\|null\|null\|contract\|/);
  });

  it('mixes the paths in one group: few events as JSON, many quarantined rows by appender', async () => {
    const calls = await jsonInserts(async () => {
      const result = await writer.submit(request('mixed', 5, JSON_INSERT_MAX_ROWS + 1));
      assert.deepEqual([result.accepted, result.quarantined], [5, JSON_INSERT_MAX_ROWS + 1]);
    });
    assert.deepEqual(calls, [5]);
    const { bronze, quarantine } = await stored(warehouse, 'mixed');
    assert.deepEqual([bronze.length, quarantine.length], [5, JSON_INSERT_MAX_ROWS + 1]);
    assert.equal(
      quarantine[JSON_INSERT_MAX_ROWS]?.split('|')[6],
      AWKWARD[JSON_INSERT_MAX_ROWS % AWKWARD.length],
    );
  });

  it('sends a few large events to the appender: the JSON text stays small', async () => {
    const big = request('big', 2);
    const data = JSON.stringify({ text: 'x'.repeat(JSON_INSERT_MAX_CHARS / 2 + 1) });
    const events = big.events.map((event) => ({ ...event, data }));
    const calls = await jsonInserts(async () => {
      assert.equal((await writer.submit({ ...big, events })).accepted, 2);
    });
    assert.deepEqual(calls, []);
    const { bronze } = await stored(warehouse, 'big');
    assert.equal(bronze.map((line) => line.split('|')[5]?.length).join(), [data.length, data.length].join());
  });

  it('sends a group with a lone surrogate to the appender, which stores it', async () => {
    const odd = request('odd', 3);
    const events = odd.events.map((event, i) => (i === 1 ? { ...event, source: 'half \ud800 pair' } : event));
    assert.equal(JsonInsert.fits([events.map((event) => event.source)]), false);
    const result = await writer.submit({ ...odd, events });
    assert.equal(result.accepted, 3);
    const { bronze } = await stored(warehouse, 'odd');
    // Node's UTF-8 conversion replaces the lone half with U+FFFD, as for any other appended string.
    assert.equal(bronze[1]?.split('|')[2], 'half \ufffd pair');
  });

  it('keeps JSON for what a JSON number holds exactly', () => {
    assert.equal(JsonInsert.fits([[BigInt(Number.MAX_SAFE_INTEGER), 'a', null, true]]), true);
    assert.equal(JsonInsert.fits([[BigInt(Number.MAX_SAFE_INTEGER) + 1n]]), false);
    assert.equal(JsonInsert.fits([[BigInt(Number.MIN_SAFE_INTEGER) - 1n]]), false);
  });
});
