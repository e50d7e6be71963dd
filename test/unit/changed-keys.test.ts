import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { findCte, materializeChangedKeys } from '../../src/models/changed-keys.js';
import { parseModel } from '../../src/models/index.js';

// A comment and a string that look like the CTE's head or close it early must not count.
const SQL = `-- changed AS (a decoy in a comment
WITH
changed AS (
  SELECT k FROM t WHERE seq > 1 AND note <> 'x) changed AS (' -- )
  UNION ALL SELECT k FROM (SELECT k FROM t WHERE seq = 0) z
),
rows_ AS (SELECT * FROM t WHERE k IN (SELECT k FROM changed))
SELECT k, seq FROM rows_ ORDER BY k, seq`;

describe('changed keys computed first', () => {
  it('finds the body of the named CTE between its own parentheses', () => {
    const bounds = findCte(SQL, 'changed');
    assert.ok(bounds);
    assert.equal(
      SQL.slice(bounds.start, bounds.end).trim(),
      `SELECT k FROM t WHERE seq > 1 AND note <> 'x) changed AS (' -- )
  UNION ALL SELECT k FROM (SELECT k FROM t WHERE seq = 0) z`,
    );
    assert.equal(findCte(SQL, 'missing'), undefined);
    assert.equal(findCte('WITH changed AS (SELECT 1', 'changed'), undefined, 'unclosed');
  });

  it('gives the rows of the inline query, reading the keys from the temporary table', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      await connection.run(`CREATE TABLE t (k VARCHAR, seq INTEGER, note VARCHAR)`);
      await connection.run(
        `INSERT INTO t VALUES ('a', 0, ''), ('a', 3, ''), ('b', 1, ''), ('c', 2, ''), ('c', 1, ''), ('d', 5, 'x) changed AS (')`,
      );
      const rewritten = await materializeChangedKeys(connection, SQL, 'changed', 'm');
      assert.match(rewritten, /changed AS \(SELECT \* FROM pulse_changed_keys\)/);
      // By hand: seq > 1 except the note 'x) changed AS (' gives a (3) and c (2); seq = 0 gives a.
      const keys = await connection.runAndReadAll(`SELECT k FROM pulse_changed_keys ORDER BY k`);
      assert.deepEqual(keys.getRowsJson(), [['a'], ['a'], ['c']]);
      const rows = (await connection.runAndReadAll(rewritten)).getRowsJson();
      assert.deepEqual(rows, [
        ['a', 0],
        ['a', 3],
        ['c', 1],
        ['c', 2],
      ]);
      assert.deepEqual(rows, (await connection.runAndReadAll(SQL)).getRowsJson());
      await assert.rejects(
        materializeChangedKeys(connection, SQL, 'nope', 'm'),
        /model m: changed_keys names CTE "nope"/,
      );
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  it('refuses a model header naming a CTE the model lacks, or not a name at all', () => {
    const header = (keys: string): string => `-- materialized: incremental\n-- changed_keys: ${keys}\n${SQL}`;
    assert.equal(parseModel('gold/m.sql', header('changed'), 'gold').changedKeys, 'changed');
    assert.throws(
      () => parseModel('gold/m.sql', header('rows'), 'gold'),
      /changed_keys names CTE "rows", which the model does not define/,
    );
    assert.throws(() => parseModel('gold/m.sql', header('x; DROP'), 'gold'), /changed_keys must name a CTE/);
  });
});
