import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { CATALOGUE_FILE, loadCatalogue } from '../../src/kpis/index.js';

/** The shipped catalogue with Inventory Risk's compactions replaced. */
function withCompact(compact: unknown): string {
  const document = parse(readFileSync(CATALOGUE_FILE, 'utf8')) as {
    kpis: { id: string; snapshot?: object }[];
  };
  const kpi = document.kpis.find((k) => k.id === 'inventory_risk');
  if (!kpi?.snapshot) throw new Error('inventory_risk has no snapshot');
  kpi.snapshot = { ...kpi.snapshot, compact };
  return stringify(document);
}

describe('catalogue: compact tables of a snapshot KPI', () => {
  it('loads the shipped compactions', () => {
    const kpi = loadCatalogue().kpis.find((k) => k.id === 'inventory_risk');
    assert.deepEqual(kpi?.snapshot?.compact, {
      fact_inventory: { latest_by: ['sku', 'warehouse'], time: 'as_of' },
      fact_order: {
        sum_by: ['sku', 'status'],
        time: 'placed_at',
        sum: ['quantity', 'net_eur'],
        days: 28,
        per: 'day',
      },
    });
  });

  it('refuses a table the SQL does not read, naming it', () => {
    assert.throws(
      () => loadCatalogue(withCompact({ fact_session: { latest_by: ['session_id'], time: 'started_at' } })),
      /snapshot\/compact\/fact_session is not a table the snapshot's sql refers to/,
    );
  });

  it('refuses column names that are not plain identifiers, and bad sizes', () => {
    const cases: [unknown, RegExp][] = [
      [
        { fact_inventory: { latest_by: ['sku; DROP TABLE x'], time: 'as_of' } },
        /compact\/fact_inventory\/latest_by\/0 must match pattern/,
      ],
      [
        { fact_order: { sum_by: ['sku'], time: 'placed_at', sum: ['quantity'], days: 0 } },
        /compact\/fact_order\/days must be >= 1/,
      ],
      [
        { fact_order: { sum_by: ['sku'], time: 'placed_at', sum: ['quantity'], days: 28, per: 'week' } },
        /compact\/fact_order\/per must be equal to one of the allowed values/,
      ],
      [
        { fact_order: { sum_by: ['sku'], time: 'placed_at', days: 28 } },
        /compact\/fact_order must have required property 'sum'/,
      ],
    ];
    for (const [compact, message] of cases) assert.throws(() => loadCatalogue(withCompact(compact)), message);
  });
});
