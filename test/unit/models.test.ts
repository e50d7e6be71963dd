import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadModels, loadModelTests, orderModels, parseModel, renderModel } from '../../src/models/index.js';

describe('model template', () => {
  const sql = `SELECT * FROM {{ ref('a') }} x {% if incremental %}WHERE _seq > {{ lo }} AND {{ this }}.k <= {{ hi }}{% else %}-- full{% endif %}`;
  it('renders the incremental branch with watermarks and refs', () => {
    const out = renderModel(sql, {
      incremental: true,
      lo: 5n,
      hi: 9n,
      self: 'm',
      resolve: (name) => `main.${name}`,
    });
    assert.equal(out, 'SELECT * FROM main.a x WHERE _seq > 5 AND m.k <= 9');
  });
  it('renders the full branch', () => {
    const out = renderModel(sql, { incremental: false, lo: 5n, hi: 9n, self: 'm', resolve: (name) => name });
    assert.equal(out, 'SELECT * FROM a x -- full');
  });
  it('refuses unknown expressions', () => {
    assert.throws(
      () =>
        renderModel('{{ var("x") }}', { incremental: false, lo: 0n, hi: 0n, self: 'm', resolve: (n) => n }),
      /unknown template expression/,
    );
  });
});

describe('model files and graph', () => {
  it('parses the config header, refs and sources', () => {
    const model = parseModel(
      'silver/x.sql',
      `-- materialized: incremental\n-- unique_key: a, b\n-- order_by: ts\nSELECT * FROM {{ ref('y') }} JOIN {{ source('bronze_events') }} USING (a)`,
      'silver',
    );
    assert.equal(model.name, 'x');
    assert.equal(model.materialized, 'incremental');
    assert.deepEqual(model.uniqueKey, ['a', 'b']);
    assert.equal(model.orderBy, 'ts');
    assert.deepEqual(model.refs, ['y']);
    assert.deepEqual(model.sources, ['bronze_events']);
  });
  it('reads new_keys_from and rejects it without a unique key or as an expression', () => {
    const header = (lines: string): string =>
      `-- materialized: incremental\n${lines}\nSELECT 1 AS event_id, 2 AS _seq`;
    assert.equal(
      parseModel('silver/x.sql', header('-- unique_key: event_id\n-- new_keys_from: _seq'), 'silver')
        .newKeysFrom,
      '_seq',
    );
    assert.equal(
      parseModel('silver/x.sql', header('-- unique_key: event_id'), 'silver').newKeysFrom,
      undefined,
    );
    assert.throws(
      () => parseModel('silver/x.sql', header('-- new_keys_from: _seq'), 'silver'),
      /silver\/x.sql: new_keys_from needs a unique_key/,
    );
    assert.throws(
      () =>
        parseModel(
          'silver/x.sql',
          header('-- unique_key: event_id\n-- new_keys_from: _seq; DROP TABLE t'),
          'silver',
        ),
      /new_keys_from must name a column of the model, got "_seq; DROP TABLE t"/,
    );
  });
  it('reports every problem of a broken graph at once', () => {
    const a = parseModel('gold/a.sql', `SELECT * FROM {{ ref('b') }}`, 'gold');
    const b = parseModel(
      'gold/b.sql',
      `SELECT * FROM {{ ref('a') }} JOIN {{ ref('ghost') }} ON true JOIN {{ source('nope') }} ON true`,
      'gold',
    );
    assert.throws(
      () => orderModels([a, b], ['bronze_events']),
      (error: Error) => {
        assert.match(error.message, /b refs unknown model "ghost"/);
        assert.match(error.message, /b reads unknown source "nope"/);
        assert.match(error.message, /cycle: a -> b -> a/);
        return true;
      },
    );
  });
  it('orders the shipped models so every ref runs first', () => {
    const ordered = orderModels(loadModels(), ['bronze_events']);
    const position = new Map(ordered.map((model, i) => [model.name, i]));
    for (const model of ordered) {
      for (const ref of model.refs)
        assert.ok(
          (position.get(ref) ?? Infinity) < (position.get(model.name) ?? -1),
          `${ref} before ${model.name}`,
        );
    }
    assert.ok(ordered.some((model) => model.name === 'fact_order'));
    assert.equal(ordered.length, 25); // 14 silver + 11 gold files
  });
  it('compiles the YAML model tests to queries returning failing rows', () => {
    const tests = loadModelTests(
      `models:\n  t:\n    columns:\n      c: [not_null, { accepted_values: { values: [a, "b'c"] } }]\n    unique: [[c, d]]\n`,
    );
    assert.deepEqual(
      tests.map((test) => test.sql),
      [
        'SELECT * FROM t WHERE c IS NULL',
        "SELECT * FROM t WHERE c IS NOT NULL AND c NOT IN ('a', 'b''c')",
        'SELECT c, d, count(*) AS n FROM t GROUP BY ALL HAVING count(*) > 1',
      ],
    );
    assert.throws(
      () => loadModelTests(`models:\n  t:\n    columns:\n      c: [sometimes_null]\n`),
      /unknown test "sometimes_null"/,
    );
  });
});
