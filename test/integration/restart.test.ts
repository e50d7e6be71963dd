import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { orderEvent, startTestPulse } from '../support/pulse.js';

describe('restart on the same DuckDB file', () => {
  it('keeps every accepted event, continues the sequence and still dedupes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-restart-'));
    try {
      const first = await startTestPulse({ dir });
      const events = Array.from({ length: 30 }, (_, i) =>
        orderEvent({ orderId: `R-${i}`, unitPrice: 10 + i }),
      );
      const answer = await first.post(JSON.stringify(events), 'application/cloudevents-batch+json');
      assert.equal(answer.body.accepted, 30);
      await first.close();

      const second = await startTestPulse({ dir });
      const stored = await second.sql(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT ingest_seq)::INTEGER AS seqs FROM bronze_events`,
      );
      assert.deepEqual(stored, [{ n: 30, seqs: 30 }]);
      // The models caught up at start: every order is in gold, Σ net = Σ (2 × (10 + i) − 2) for i < 30.
      const expected = Array.from({ length: 30 }, (_, i) => 2 * (10 + i) - 2).reduce((a, b) => a + b, 0);
      const kpi = (await (
        await second.fetch(
          `${second.url}/v1/kpis/net_revenue?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z`,
        )
      ).json()) as { value: string };
      assert.equal(kpi.value, `${expected}.00`);
      const again = await second.post(
        JSON.stringify([...events.slice(0, 5), orderEvent({ orderId: 'R-new' })]),
        'application/cloudevents-batch+json',
      );
      assert.deepEqual([again.body.accepted, again.body.duplicates], [1, 5]);
      const seqs = await second.sql(
        `SELECT max(ingest_seq)::INTEGER AS top, count(*)::INTEGER AS n FROM bronze_events`,
      );
      assert.equal(seqs[0]?.n, 31);
      assert.ok(Number(seqs[0]?.top) > 30, 'the sequence continues after the restart');
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
