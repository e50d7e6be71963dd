import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { minuteStart, minuteStartMs } from '../../src/warehouse/sql-time.js';

describe('minute arithmetic in SQL', () => {
  it('floors to the UTC minute exactly as date_trunc does, before 1970 and at the edges too', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`SET TimeZone = 'UTC'`);
      // A minute's first and last microsecond, a time before the epoch, one just before it, and NULL.
      const times = [
        '2026-03-10 12:00:00+00',
        '2026-03-10 12:00:59.999999+00',
        '2026-03-10 11:59:59.999999+00',
        '1969-12-31 23:59:30.5+00',
        '1969-12-31 23:59:59.999999+00',
        '1900-01-01 00:00:01+00',
        null,
      ];
      const values = times
        .map((t) => (t === null ? 'NULL::TIMESTAMPTZ' : `'${t}'::TIMESTAMPTZ`))
        .join('), (');
      const reader = await connection.runAndReadAll(
        `SELECT ts::VARCHAR, ${minuteStartMs('ts')}::VARCHAR, ${minuteStart('ts')}::VARCHAR FROM (VALUES (${values})) v(ts)`,
      );
      // By hand: the minute each time starts in, as text and as epoch ms.
      const expected = [
        ['2026-03-10 12:00:00', 1773144000000],
        ['2026-03-10 12:00:00', 1773144000000],
        ['2026-03-10 11:59:00', 1773143940000],
        ['1969-12-31 23:59:00', -60000],
        ['1969-12-31 23:59:00', -60000],
        ['1900-01-01 00:00:00', -2208988800000],
      ];
      const rows = reader.getRows();
      expected.forEach(([minute, ms], i) => {
        assert.equal(rows[i]?.[1], String(ms), `epoch ms of ${times[i]}`);
        assert.equal(rows[i]?.[2], `${String(minute)}+00`, `minute of ${times[i]}`);
      });
      assert.deepEqual(rows[6]?.slice(1), [null, null]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
