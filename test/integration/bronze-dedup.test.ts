import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BronzeWriter, type CommitRequest } from '../../src/warehouse/bronze-writer.js';
import { openWarehouse, type Warehouse } from '../../src/warehouse/index.js';
import { queryRows } from '../../src/warehouse/query.js';
import { RecentIds } from '../../src/warehouse/recent-ids.js';

function batch(...ids: string[]): CommitRequest {
  return {
    batchId: `batch-${ids.join('-')}`,
    sourceKind: 'http',
    receivedAt: new Date('2026-11-30T10:00:00Z'),
    quarantined: [],
    events: ids.map((id) => ({
      id,
      type: 'session.started',
      source: '/test',
      time: '2026-11-30T09:59:00Z',
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

  it('counts a resent event as a duplicate whether the writer still remembers its id or not', async () => {
    // It remembers the last 2 ids only: A, B and C are forgotten after the first batch.
    const writer = await BronzeWriter.open(warehouse.writer, { recent: new RecentIds(2) });
    const redone: boolean[] = [];
    writer.onCommit((info) => redone.push(info.redone));
    const first = await writer.submit(batch('A', 'B', 'C', 'D', 'E'));
    assert.deepEqual([first.accepted, first.duplicateIds], [5, []]);
    assert.deepEqual(redone, [false]);

    // A is forgotten: its plain insert fails, and the group is redone with the check for every event.
    const second = await writer.submit(batch('F', 'A', 'E'));
    assert.deepEqual([second.accepted, second.duplicateIds], [1, ['A', 'E']]);
    assert.deepEqual(redone, [false, true]);

    // E and F are remembered now: E is checked, G goes in plainly, nothing is redone.
    const third = await writer.submit(batch('E', 'G'));
    assert.deepEqual([third.accepted, third.duplicateIds], [1, ['E']]);
    assert.deepEqual(redone, [false, true, false], 'what each commit reported');

    // 7 events, each once. A duplicate uses up the sequence it was staged with (A 7, E 8 and 9), and
    // the redone group staged again from 6, so F kept 6.
    assert.deepEqual(await bronze(warehouse), {
      rows: 7,
      ids: 7,
      stored: 'A:1,B:2,C:3,D:4,E:5,F:6,G:10',
    });
    assert.equal(third.lastSeq, 10n);
  });

  it('refuses stored ids after a restart, when it remembers nothing', async () => {
    const writer = await BronzeWriter.open(warehouse.writer);
    const result = await writer.submit(batch('H', 'B', 'H'));
    assert.deepEqual([result.accepted, [...result.duplicateIds].sort()], [1, ['B', 'H']]);
    assert.deepEqual(await bronze(warehouse), {
      rows: 8,
      ids: 8,
      stored: 'A:1,B:2,C:3,D:4,E:5,F:6,G:10,H:11',
    });
  });

  it('stores new events whose hash collides with a remembered one: a collision costs a check, not an event', async () => {
    // Every id has the same hash: after the first commit, every event is suspected. A writer opened
    // again starts after the highest stored sequence (11, H's), so I is 12.
    const writer = await BronzeWriter.open(warehouse.writer, { recent: new RecentIds(10, () => 0) });
    const redone: boolean[] = [];
    writer.onCommit((info) => redone.push(info.redone));
    assert.equal((await writer.submit(batch('I'))).accepted, 1);
    const result = await writer.submit(batch('J', 'K', 'C'));
    assert.deepEqual([result.accepted, result.duplicateIds], [2, ['C']]);
    assert.deepEqual(redone, [false, false], 'the suspects went through the check: nothing redone');
    assert.deepEqual(await bronze(warehouse), {
      rows: 11,
      ids: 11,
      stored: 'A:1,B:2,C:3,D:4,E:5,F:6,G:10,H:11,I:12,J:13,K:14',
    });
  });
});

describe('RecentIds', () => {
  it('forgets the oldest id first, and keeps a hash while another id with it remains', () => {
    // The hash is the id's length, so 'aa' and 'bb' collide.
    const recent = new RecentIds(2, (id) => id.length);
    recent.add('aa');
    recent.add('bb');
    assert.equal(recent.has('cc'), true, 'any id of length 2 is suspected');
    assert.equal(recent.has('x'), false);
    recent.add('x'); // evicts 'aa'; 'bb' still holds hash 2
    assert.equal(recent.has('zz'), true);
    assert.equal(recent.has('q'), true);
    recent.add('y'); // evicts 'bb'
    assert.equal(recent.has('zz'), false);
    assert.equal(recent.has('q'), true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new RecentIds(0), /capacity must be a positive integer/);
    assert.throws(() => new RecentIds(1.5), /capacity must be a positive integer/);
  });
});
