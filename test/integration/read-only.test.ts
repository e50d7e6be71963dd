import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

/**
 * An ext4 file system on a loop device, mounted with errors=remount-ro: the kernel's own way of
 * turning a file system read-only under a running process (a plain `remount,ro` is refused while
 * DuckDB holds its file open for writing). Only root can do this (CI runs as root).
 */
function sh(command: string, args: string[]): { ok: boolean; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}` };
}
function mountExt4(image: string, dir: string): boolean {
  return sh('mount', ['-o', 'loop,errors=remount-ro', image, dir]).ok;
}
/** Makes the mounted file system read-only now, as an I/O error would (ext4's trigger_fs_error). */
function turnReadOnly(dir: string): void {
  const device = sh('findmnt', ['-no', 'SOURCE', dir]).out.trim();
  writeFileSync(`/sys/fs/ext4/${basename(device)}/trigger_fs_error`, 'pulse read-only test');
  assert.match(sh('findmnt', ['-no', 'OPTIONS', dir]).out, /emergency_ro|(^|,)ro(,|$)/);
}

async function postBatch(pulse: TestPulse, prefix: string, n: number) {
  const events = Array.from({ length: n }, (_, i) => orderEvent({ orderId: `${prefix}-${i}` }));
  const response = await pulse.fetch(`${pulse.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(events),
  });
  return {
    ids: events.map((e) => e.id),
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { error?: { code: string }; accepted?: number },
  };
}

describe('a warehouse file system that turns read-only', () => {
  it('answers 503 with Retry-After and not-ready naming the warehouse, and a restart once writable keeps everything acknowledged', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'pulse-read-only-'));
    const image = join(root, 'fs.img');
    const dir = join(root, 'mnt');
    mkdirSync(dir);
    const made = sh('truncate', ['-s', '96M', image]).ok && sh('mkfs.ext4', ['-q', '-F', image]).ok;
    if (!made || !mountExt4(image, dir)) {
      assert.notEqual(
        process.env.CI,
        'true',
        'under CI=true this test must be able to mount an ext4 loop device (root)',
      );
      t.skip('cannot mount a loop device here (needs root)');
      rmSync(root, { recursive: true, force: true });
      return;
    }
    const acknowledged: string[] = [];
    try {
      const pulse = await startTestPulse({ dir, ingestWorkers: 0 });
      try {
        for (let batch = 0; batch < 3; batch += 1) {
          const answer = await postBatch(pulse, `RO-before-${batch}`, 300);
          assert.equal(answer.status, 200);
          acknowledged.push(...answer.ids);
        }
        turnReadOnly(dir);
        for (let batch = 0; batch < 3; batch += 1) {
          const answer = await postBatch(pulse, `RO-during-${batch}`, 300);
          assert.equal(answer.status, 503, JSON.stringify(answer.body));
          assert.equal(answer.body.error?.code, 'PULSE_ERR_UNAVAILABLE');
          assert.ok(Number(answer.retryAfter) > 0, 'Retry-After is set');
        }
        const ready = await fetch(`${pulse.url}/readyz`);
        assert.equal(ready.status, 503);
        const body = (await ready.json()) as { checks: { warehouse: { status: string; error?: string } } };
        assert.equal(body.checks.warehouse.status, 'failing');
        assert.match(
          body.checks.warehouse.error ?? '',
          /read-only|Read-only|I\/O|IO Error/i,
          'readyz says why',
        );
      } finally {
        await pulse.close().catch(() => undefined);
      }
      // The operator repairs the file system (an emergency read-only ext4 cannot be remounted
      // writable in place) and Pulse restarts on the same file.
      assert.ok(sh('umount', [dir]).ok, 'umount');
      sh('e2fsck', ['-fy', image]);
      assert.ok(mountExt4(image, dir), 'mount again');
      const again = await startTestPulse({ dir });
      try {
        const stored = await again.sql(`SELECT event_id FROM bronze_events WHERE event_id LIKE 'evt-RO-%'`);
        const storedIds = new Set(stored.map((row) => String(row.event_id)));
        assert.deepEqual(
          acknowledged.filter((id) => !storedIds.has(id)),
          [],
          'every acknowledged event survived',
        );
        assert.equal(stored.length, storedIds.size, 'none stored twice');
        assert.equal(stored.length, acknowledged.length, 'nothing refused was stored');
        const after = await postBatch(again, 'RO-after', 100);
        assert.equal(after.status, 200);
        assert.equal(after.body.accepted, 100);
        assert.equal((await fetch(`${again.url}/readyz`)).status, 200);
      } finally {
        await again.close();
      }
    } finally {
      sh('umount', [dir]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
