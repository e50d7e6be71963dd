import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openWarehouse } from '../../src/warehouse/index.js';
import { queryRows } from '../../src/warehouse/query.js';

const CONNECTION = fileURLToPath(new URL('../../src/warehouse/connection.js', import.meta.url));

const walSize = (path: string): number => (existsSync(`${path}.wal`) ? statSync(`${path}.wal`).size : 0);

describe('warehouse start after a crash', () => {
  it('folds the replayed WAL into the file, so the next crash replays only its own writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-wal-'));
    const path = join(dir, 'pulse.duckdb');
    try {
      // A process that writes 5,000 rows and is SIGKILLed before any checkpoint (threshold 512 MB).
      const crash = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { openWarehouse } = await import(${JSON.stringify(CONNECTION)});
           const w = await openWarehouse({ path: ${JSON.stringify(path)} });
           await w.writer.run('CREATE TABLE crash_probe AS SELECT range AS n FROM range(5000)');
           process.kill(process.pid, 'SIGKILL');`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(crash.signal, 'SIGKILL', crash.stderr);
      const before = walSize(path);
      assert.ok(before > 0, 'the killed process left its writes in the WAL');

      const warehouse = await openWarehouse({ path });
      try {
        assert.equal(walSize(path), 0, 'the WAL was checkpointed on open');
        const [row] = await queryRows(
          warehouse.reader,
          'SELECT count(*)::INTEGER AS n, sum(n)::BIGINT AS s FROM crash_probe',
        );
        // 0 + 1 + … + 4,999
        assert.deepEqual({ n: row?.n, s: String(row?.s) }, { n: 5000, s: String((4999 * 5000) / 2) });
      } finally {
        await warehouse.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies the configured memory limit and checkpoint threshold: a small threshold checkpoints a large write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-wal-'));
    const path = join(dir, 'pulse.duckdb');
    const warehouse = await openWarehouse({ path, memoryLimit: '1GB', checkpointThreshold: '1MB' });
    try {
      const [setting] = await queryRows(
        warehouse.reader,
        `SELECT current_setting('memory_limit') AS memory, current_setting('checkpoint_threshold') AS threshold`,
      );
      // DuckDB reports sizes in binary units: 10^9 B = 953.6 MiB, 10^6 B = 976.5 KiB.
      assert.deepEqual(setting, { memory: '953.6 MiB', threshold: '976.5 KiB' });
      // About 9 MB of rows: far past the 1 MB threshold, so the commit checkpoints and empties the WAL.
      await warehouse.writer.run(
        'CREATE TABLE wide AS SELECT range AS n, md5(range::VARCHAR) AS h FROM range(200000)',
      );
      assert.ok(walSize(path) < 100_000, `the WAL holds ${walSize(path)} B after the checkpoint`);
      assert.ok(statSync(path).size > 1_000_000, 'the rows are in the file');
    } finally {
      await warehouse.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs DuckDB on the threads asked for, and on every core when none are', async () => {
    const threadsOf = async (threads?: number): Promise<unknown> => {
      const warehouse = await openWarehouse({ path: ':memory:', ...(threads ? { threads } : {}) });
      try {
        const [row] = await queryRows(warehouse.reader, `SELECT current_setting('threads') AS threads`);
        return row?.threads;
      } finally {
        await warehouse.close();
      }
    };
    assert.equal(Number(await threadsOf(1)), 1);
    assert.equal(Number(await threadsOf(3)), 3);
    assert.equal(Number(await threadsOf()), availableParallelism());
  });
});
