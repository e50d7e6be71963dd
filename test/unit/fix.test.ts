import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { applyFix, checkFix } from '../../src/quality/fix.js';

describe('quarantine fixes', () => {
  const event = {
    data: {
      country: 'France',
      lines: [
        { quantity: '2', sku: ' ab-1 ' },
        { quantity: '1.5', sku: 'cd-2' },
        { quantity: 'x', sku: 'ef-3' },
      ],
    },
  };

  it('converts every value at a path on its own, leaving what does not convert', () => {
    const fixed = applyFix(event, {
      convert: { 'data.lines[*].quantity': 'integer', 'data.lines[*].sku': 'upper' },
    }) as typeof event;
    assert.deepEqual(
      fixed.data.lines.map((l) => [l.quantity, l.sku]),
      [
        [2, ' AB-1 '],
        ['1.5', 'CD-2'], // not an integer: left for the contract to quarantine again
        ['x', 'EF-3'],
      ],
    );
    const numbers = applyFix(event, { convert: { 'data.lines[*].quantity': 'number' } }) as typeof event;
    assert.deepEqual(
      numbers.data.lines.map((l) => l.quantity),
      [2, 1.5, 'x'],
    );
    const trimmed = applyFix(event, { convert: { 'data.lines[0].sku': 'trim' } }) as typeof event;
    assert.equal(trimmed.data.lines[0]?.sku, 'ab-1');
    // The original is never changed.
    assert.equal(event.data.lines[0]?.quantity, '2');
  });

  it('maps values through a table and leaves unknown ones, after conversions and before sets', () => {
    const fixed = applyFix(event, {
      convert: { 'data.country': 'upper' },
      map: { 'data.country': { FRANCE: 'FR', France: 'XX' } },
      set: { 'data.channel': 'web' },
    }) as typeof event & { data: { channel: string } };
    assert.equal(fixed.data.country, 'FR');
    assert.equal(fixed.data.channel, 'web');
    const unknown = applyFix(event, { map: { 'data.country': { Spain: 'ES' } } }) as typeof event;
    assert.equal(unknown.data.country, 'France');
    // A missing field is not created by a mapping.
    const missing = applyFix(event, { map: { 'data.region': { France: 'FR' } } }) as { data: object };
    assert.equal(Object.hasOwn(missing.data, 'region'), false);
  });

  it('refuses unknown conversions, non-object tables and forbidden paths, naming them', () => {
    assert.throws(() => checkFix({ convert: { 'data.x': 'float' as never } }), /convert "data.x": "float"/);
    assert.throws(() => checkFix({ map: { 'data.x': ['a'] as never } }), /map "data.x" must be an object/);
    assert.throws(() => checkFix({ map: { '__proto__.x': {} } }), /forbidden/);
  });
});
