/**
 * One conformance suite for every source (http, nats, files): the same cases, run against each.
 *
 * A source is plugged in with a {@link SourceHarness}: how to make a fresh instance of the source
 * (a restart makes a new one on the same upstream: same port, same durable consumer, same folder),
 * and how to hand raw input to it as a producer would. `send` takes lines of text, one event each
 * (a JSON CloudEvent or garbage), and resolves once the upstream has accepted them (HTTP: 2xx after
 * a retry on refusal while the source is down; NATS: JetStream's publish ack; files: the file is
 * in the drop folder). The suite runs the source against a real pipeline on a fresh DuckDB file
 * and checks what reached bronze and the quarantine with plain SQL.
 *
 * Plugged in: test/integration/source-conformance-{http,nats,files}.test.ts.
 *
 * Quarantine reasons are compared by rule (`json` for text that does not parse, the contract rule
 * otherwise), never by message, so each source may word its own.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openPipeline, type Pipeline } from '../../src/app.js';
import type { Source } from '../../src/sources/index.js';
import { queryRows } from '../../src/warehouse/index.js';
import { orderEvent, TEST_TOKEN_KEY } from './pulse.js';

export interface SourceHarness {
  /** A new instance of the source on the same upstream as every other instance of this harness. */
  createSource(): Source;
  /** Hands lines (one event each) to the upstream; resolves once the upstream has them. */
  send(lines: readonly string[]): Promise<void>;
  /** Removes what the harness made (streams, folders). */
  dispose(): Promise<void>;
}

/** How long a source may take to commit what was sent (a loaded machine is slow, never wrong). */
const SETTLE_TIMEOUT_MS = 60_000;

export function runSourceConformance(name: string, setup: () => Promise<SourceHarness>): void {
  describe(`source conformance: ${name}`, () => {
    let harness: SourceHarness;
    let pipeline: Pipeline;
    let source: Source | undefined;
    let dir: string;
    // Each case uses its own id prefix, so cases share one warehouse without seeing each other.
    let caseNo = 0;
    const prefix = () => `${name}-c${(caseNo += 1)}-${process.pid}`;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `pulse-conformance-${name}-`));
      pipeline = await openPipeline({
        dbPath: join(dir, 'pulse.duckdb'),
        tokenKey: TEST_TOKEN_KEY,
        ingestWorkers: 0,
      });
      harness = await setup();
      source = harness.createSource();
      await source.start(pipeline.deliver);
    });
    after(async () => {
      await source?.stop();
      await harness?.dispose();
      await pipeline?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const stored = async (idPrefix: string) =>
      queryRows(
        pipeline.warehouse.reader,
        `SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM bronze_events WHERE event_id LIKE '${idPrefix}-%'`,
      ).then((rows) => ({ rows: Number(rows[0]?.n), ids: Number(rows[0]?.ids) }));
    const quarantined = async (idPrefix: string) =>
      queryRows(
        pipeline.warehouse.reader,
        `SELECT event_id, rule, field FROM quarantine WHERE batch_id IN
           (SELECT batch_id FROM quarantine WHERE event_id LIKE '${idPrefix}-%' OR payload LIKE '%${idPrefix}%')
         ORDER BY rule, field`,
      );
    /** Waits until `count` events with the prefix are in bronze, then a little longer to catch extras. */
    async function settle(idPrefix: string, count: number): Promise<{ rows: number; ids: number }> {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      let seen = await stored(idPrefix);
      while (seen.ids < count && Date.now() < deadline) {
        await sleep(50);
        seen = await stored(idPrefix);
      }
      await sleep(300);
      return stored(idPrefix);
    }
    const events = (idPrefix: string, n: number, from = 0) =>
      Array.from({ length: n }, (_, i) =>
        JSON.stringify(orderEvent({ id: `${idPrefix}-${from + i}`, orderId: `${idPrefix}-O${from + i}` })),
      );

    it('commits every valid event once', async () => {
      const p = prefix();
      await harness.send(events(p, 25));
      assert.deepEqual(await settle(p, 25), { rows: 25, ids: 25 });
    });

    it('stores a duplicate once, within a batch and across batches', async () => {
      const p = prefix();
      const batch = events(p, 10);
      await harness.send([...batch, batch[0]!, batch[1]!]);
      await harness.send(batch.slice(0, 5));
      // 10 distinct ids were sent 17 times: 10 rows, each id once.
      assert.deepEqual(await settle(p, 10), { rows: 10, ids: 10 });
    });

    it('quarantines invalid events with their reason and keeps the valid ones beside them', async () => {
      const p = prefix();
      const badQuantity = orderEvent({ id: `${p}-bad-qty`, orderId: `${p}-Obad`, quantity: 0 });
      const { id: _omit, ...noId } = orderEvent({ orderId: `${p}-noid` });
      const lines = [
        ...events(p, 3),
        JSON.stringify(badQuantity),
        JSON.stringify({ ...noId, source: `/shop/${p}` }),
        `{"not json at all ${p}`,
      ];
      await harness.send(lines);
      assert.deepEqual(await settle(p, 3), { rows: 3, ids: 3 });
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      let rows = await quarantined(p);
      while (rows.length < 3 && Date.now() < deadline) {
        await sleep(50);
        rows = await quarantined(p);
      }
      const reasons = rows.map((row) => `${String(row.rule)} ${String(row.field)}`).sort();
      // By hand from the three bad lines: quantity 0 breaks minimum, the missing id is required,
      // the garbage line is not JSON.
      assert.deepEqual(reasons, ['json (event)', 'minimum data.lines[0].quantity', 'required id']);
      assert.equal(rows.find((row) => row.rule === 'minimum')?.event_id, `${p}-bad-qty`);
    });

    it('loses nothing and doubles nothing across a restart mid-stream', async () => {
      const p = prefix();
      const total = 300;
      const chunks = Array.from({ length: 15 }, (_, i) => events(p, 20, i * 20));
      const sending = (async () => {
        for (const chunk of chunks) await harness.send(chunk);
      })();
      // Restart while the producer is still sending.
      await sleep(100);
      await source!.stop();
      source = harness.createSource();
      await source.start(pipeline.deliver);
      await sending;
      assert.deepEqual(await settle(p, total), { rows: total, ids: total });
    });

    it('loses nothing under concurrent producers', async () => {
      const p = prefix();
      const producers = 8;
      const perProducer = 40;
      await Promise.all(
        Array.from({ length: producers }, async (_, producer) => {
          for (let i = 0; i < perProducer; i += 10) {
            await harness.send(events(p, 10, producer * perProducer + i));
          }
        }),
      );
      const total = producers * perProducer;
      assert.deepEqual(await settle(p, total), { rows: total, ids: total });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
