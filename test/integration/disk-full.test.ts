import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { orderEvent, startTestPulse } from '../support/pulse.js';

/** A small tmpfs to fill up: only root can mount one (CI runs as root). */
function mountTmpfs(dir: string, size: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

describe('a full disk', () => {
  it('answers 503 and not-ready instead of losing or half-storing a batch, and recovers after a restart', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-disk-full-'));
    if (!mountTmpfs(dir, '6m')) {
      assert.notEqual(
        process.env.CI,
        'true',
        'under CI=true this test must be able to mount a tmpfs (run as root)',
      );
      t.skip('cannot mount a tmpfs here (needs root)');
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const acknowledged: string[] = [];
    try {
      const pulse = await startTestPulse({ dir, ingestWorkers: 0 });
      let refused = 0;
      for (let batch = 0; batch < 80 && refused < 2; batch += 1) {
        const events = Array.from({ length: 400 }, (_, i) => orderEvent({ orderId: `DF-${batch}-${i}` }));
        const answer = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
        assert.ok(
          answer.status === 200 || answer.status === 503,
          `status ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`,
        );
        if (answer.status === 200) acknowledged.push(...events.map((e) => e.id));
        else {
          refused += 1;
          assert.equal((answer.body.error as { code: string }).code, 'PULSE_ERR_UNAVAILABLE');
          const ready = await fetch(`${pulse.url}/readyz`);
          assert.equal(ready.status, 503, 'not ready while commits fail');
        }
      }
      assert.ok(refused > 0, 'the disk never filled up');
      assert.ok(acknowledged.length > 0, 'nothing was acknowledged before the disk filled up');
      await pulse.close().catch(() => undefined);
      // The operator frees space; Pulse restarts on the same file.
      assert.equal(spawnSync('mount', ['-o', 'remount,size=256m', dir]).status, 0);
      const again = await startTestPulse({ dir });
      try {
        const rows = await again.sql(
          `SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM bronze_events WHERE event_id LIKE 'evt-DF-%'`,
        );
        const stored = await again.sql(`SELECT event_id FROM bronze_events WHERE event_id LIKE 'evt-DF-%'`);
        const storedIds = new Set(stored.map((row) => String(row.event_id)));
        const lost = acknowledged.filter((id) => !storedIds.has(id));
        assert.deepEqual(lost, [], 'every acknowledged event survived');
        assert.equal(rows[0]?.n, rows[0]?.ids, 'none stored twice');
        const answer = await again.post(
          JSON.stringify([orderEvent({ orderId: 'DF-after' })]),
          'application/cloudevents-batch+json',
        );
        assert.equal(answer.status, 200);
        assert.equal((await fetch(`${again.url}/readyz`)).status, 200);
      } finally {
        await again.close();
      }
    } finally {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
