import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BronzeWriter, type CommitRequest } from '../../src/warehouse/bronze-writer.js';
import { openWarehouse, type Warehouse } from '../../src/warehouse/index.js';
import { queryRows } from '../../src/warehouse/query.js';
import { EventKeySet, eventKeyOf, eventKeysOf } from '../../src/warehouse/event-keys.js';

function batch(...ids: string[]): CommitRequest {
  return timedBatch('2026-11-30T09:59:00Z', ...ids);
}

function timedBatch(time: string, ...ids: string[]): CommitRequest {
  return {
    batchId: `batch-${ids.join('-')}`,
    sourceKind: 'http',
    receivedAt: new Date('2026-11-30T10:00:00Z'),
    quarantined: [],
    events: ids.map((id) => ({
      id,
      type: 'session.started',
      source: '/test',
      time,
      data: JSON.stringify({ session_id: `S-${id}` }),
    })),
  };
}

/** What bronze holds, by plain SQL: rows, distinct ids, and each id with its ingest sequence. */
async function bronze(warehouse: Warehouse): Promise<{ rows: number; ids: number; stored: string }> {
  const [row] = await queryRows(
    warehouse.reader,
    `SELECT count(*)::INTEGER AS rows, count(DISTINCT event_id)::INTEGER AS ids,
            string_agg(event_id || ':' || ingest_seq, ',' ORDER BY event_id) AS stored
     FROM bronze_events`,
  );
  return { rows: Number(row?.rows), ids: Number(row?.ids), stored: String(row?.stored) };
}

describe('bronze deduplication', () => {
  let dir: string;
  let warehouse: Warehouse;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-dedup-'));
    warehouse = await openWarehouse({ path: join(dir, 'pulse.duckdb') });
  });
  after(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores each id once, within a group and across groups, and a duplicate takes no sequence', async () => {
    const writer = await BronzeWriter.open(warehouse.writer);
    const first = await writer.submit(batch('A', 'B', 'C', 'D', 'E'));
    assert.deepEqual([first.accepted, first.duplicateIds], [5, []]);
    const second = await writer.submit(batch('F', 'A', 'E', 'F'));
    assert.deepEqual([second.accepted, second.duplicateIds], [1, ['A', 'E', 'F']]);
    // Two requests in flight at once, sharing an id: whichever is stored first, the other is refused.
    const [third, fourth] = await Promise.all([
      writer.submit(batch('G', 'H')),
      writer.submit(batch('H', 'I')),
    ]);
    assert.equal((third?.accepted ?? 0) + (fourth?.accepted ?? 0), 3);
    assert.deepEqual([...(third?.duplicateIds ?? []), ...(fourth?.duplicateIds ?? [])], ['H']);
    assert.deepEqual(await bronze(warehouse), {
      rows: 9,
      ids: 9,
      stored: 'A:1,B:2,C:3,D:4,E:5,F:6,G:7,H:8,I:9',
    });
    assert.equal(writer.storedEvents, 9);
  });

  it('refuses stored ids after a restart: the keys are read back from bronze', async () => {
    const writer = await BronzeWriter.open(warehouse.writer);
    assert.equal(writer.storedEvents, 0, 'not read at open: commands that never ingest skip them');
    await writer.loadKeys();
    assert.equal(writer.storedEvents, 9);
    const result = await writer.submit(batch('J', 'B', 'J'));
    assert.deepEqual([result.accepted, result.duplicateIds], [1, ['B', 'J']]);
    assert.deepEqual(await bronze(warehouse), {
      rows: 10,
      ids: 10,
      stored: 'A:1,B:2,C:3,D:4,E:5,F:6,G:7,H:8,I:9,J:10',
    });
  });

  it('reads the keys at its first commit when nobody asked for them before', async () => {
    const writer = await BronzeWriter.open(warehouse.writer);
    const result = await writer.submit(batch('A', 'J', 'J2'));
    assert.deepEqual([result.accepted, result.duplicateIds], [1, ['A', 'J']]);
    assert.equal(writer.storedEvents, 11);
  });

  it('keeps no key of a group that failed: its events are accepted when sent again', async () => {
    const writer = await BronzeWriter.open(warehouse.writer);
    // The cast of the time fails inside the transaction, after K and L were checked.
    await assert.rejects(writer.submit(timedBatch('not a time', 'K', 'L')), {
      code: 'PULSE_ERR_UNAVAILABLE',
    });
    const again = await writer.submit(batch('K', 'L'));
    assert.deepEqual([again.accepted, again.duplicateIds], [2, []]);
    assert.deepEqual(await bronze(warehouse), {
      rows: 13,
      ids: 13,
      stored: 'A:1,B:2,C:3,D:4,E:5,F:6,G:7,H:8,I:9,J:10,J2:11,K:12,L:13',
    });
  });

  it('deduplicates by the keys a prepare worker hashed, and refuses keys that do not match the events', async () => {
    const writer = await BronzeWriter.open(warehouse.writer);
    // The worker's keys are the ids' own: M and N are new, B is stored, N repeats.
    const ids = ['M', 'B', 'N', 'N'];
    const hashed = await writer.submit({ ...batch(...ids), keys: eventKeysOf(ids) });
    assert.deepEqual([hashed.accepted, hashed.duplicateIds], [2, ['B', 'N']]);
    // The writer trusts the keys it is given: O sent with A's key is taken for A, already stored.
    const trusted = await writer.submit({ ...batch('O'), keys: eventKeysOf(['A']) });
    assert.deepEqual([trusted.accepted, trusted.duplicateIds], [0, ['O']]);
    await assert.rejects(
      writer.submit({ ...batch('P', 'Q'), keys: eventKeysOf(['P']) }),
      /2 events but 1 keys/,
    );
    const [row] = await queryRows(
      warehouse.reader,
      `SELECT string_agg(event_id || ':' || ingest_seq, ',' ORDER BY ingest_seq) FILTER (WHERE ingest_seq > 13) AS added,
              count(*) FILTER (WHERE event_id IN ('O', 'P', 'Q'))::INTEGER AS refused
       FROM bronze_events`,
    );
    assert.deepEqual([row?.added, row?.refused], ['M:14,N:15', 0]);
  });
});

describe('EventKeySet', () => {
  it("computes the key DuckDB's md5_number stores, for ids of any script", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-keys-'));
    const warehouse = await openWarehouse({ path: join(dir, 'pulse.duckdb') });
    try {
      const ids = ['abc', 'evt-9f1c2d', 'ñandú-ü', '注文-42', ''];
      const rows = await queryRows(
        warehouse.reader,
        `SELECT id, md5_number(id)::VARCHAR AS key FROM unnest([${ids.map((id) => `'${id}'`).join(', ')}]) t(id)`,
      );
      const all = eventKeysOf(ids);
      const value = (words: Uint32Array): string =>
        [...words].reduceRight((sum, word) => (sum << 32n) + BigInt(word), 0n).toString();
      for (const row of rows) {
        const at = ids.indexOf(String(row.id));
        assert.equal(value(eventKeyOf(String(row.id))), row.key, `key of ${String(row.id)}`);
        assert.equal(value(all.subarray(at * 4, at * 4 + 4)), row.key, `key ${at} of the array`);
      }
    } finally {
      await warehouse.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [label, keys] of [
    ["the stored events' set", new EventKeySet()],
    ["a commit group's set, started at 64 slots", new EventKeySet(0, 64)],
  ] as const) {
    it(`holds every key it was given through its growth, and no other: ${label}`, () => {
      const bytesBefore = keys.bytes;
      const inside = eventKeysOf(Array.from({ length: 200_000 }, (_, i) => `in-${i}`));
      const outside = eventKeysOf(Array.from({ length: 200_000 }, (_, i) => `out-${i}`));
      for (let i = 0; i < 200_000; i++) assert.equal(keys.addAt(inside, i), true);
      assert.equal(keys.size, 200_000);
      assert.ok(keys.bytes > bytesBefore, 'the table grew');
      for (let i = 0; i < 200_000; i++) {
        assert.equal(keys.hasAt(inside, i), true, `in-${i}`);
        assert.equal(keys.has(eventKeyOf(`in-${i}`)), true, `in-${i}`);
        assert.equal(keys.hasAt(outside, i), false, `out-${i}`);
      }
      assert.equal(keys.add(eventKeyOf('in-7')), false, 'a key held already is not added again');
      assert.equal(keys.size, 200_000);
    });
  }

  it('keeps the all-zero key, which marks an empty slot, apart', () => {
    const keys = new EventKeySet();
    const zero = new Uint32Array(4);
    assert.equal(keys.has(zero), false);
    assert.equal(keys.add(zero), true);
    assert.equal(keys.add(zero), false);
    assert.equal(keys.has(zero), true);
    assert.equal(keys.has(new Uint32Array([0, 0, 0, 1])), false);
    assert.equal(keys.size, 1);
  });

  it('takes in every key of another set, the all-zero one included, and only those', () => {
    const group = new EventKeySet(0, 64);
    const ids = Array.from({ length: 500 }, (_, i) => `group-${i}`);
    const inGroup = eventKeysOf(ids);
    ids.forEach((_, i) => group.addAt(inGroup, i));
    group.add(new Uint32Array(4));
    const stored = new EventKeySet();
    stored.add(eventKeyOf('group-3'));
    stored.addAll(group);
    // 500 ids and the zero key, one of the ids held already.
    assert.equal(stored.size, 501);
    ids.forEach((id, i) => assert.equal(stored.hasAt(inGroup, i), true, id));
    assert.equal(stored.has(new Uint32Array(4)), true);
    assert.equal(stored.has(eventKeyOf('group-500')), false);
  });
});
