import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkKey, generateKey, KeyRing } from '../../src/security/index.js';

const NOW = new Date('2026-03-10T12:00:00Z');

/** KeyRing.check remembers keys that matched; every change to the ring and every expiry still counts. */
describe('KeyRing.check', () => {
  it('accepts a key again and again with the principal of its record, as checkKey does', () => {
    const reader = generateKey('reader', ['read']);
    const ring = new KeyRing([reader.stored]);
    const first = ring.check(reader.key, NOW);
    const second = ring.check(reader.key, NOW);
    assert.deepEqual(first, checkKey(reader.key, ring.lookup, NOW));
    assert.deepEqual(second, {
      ok: true,
      principal: { keyId: reader.stored.id, roles: ['read'], sellerId: null },
    });
  });

  it('refuses a remembered key once it is revoked, replaced away or expired', () => {
    const reader = generateKey('reader', ['read'], new Date('2026-03-11T00:00:00Z'));
    const ring = new KeyRing([reader.stored]);
    assert.equal(ring.check(reader.key, NOW).ok, true);
    assert.deepEqual(ring.check(reader.key, new Date('2026-03-11T00:00:00Z')), {
      ok: false,
      reason: 'expired',
    });
    ring.set({ ...reader.stored, revoked: true });
    assert.deepEqual(ring.check(reader.key, NOW), { ok: false, reason: 'revoked' });
    ring.replace([]);
    assert.deepEqual(ring.check(reader.key, NOW), { ok: false, reason: 'unknown' });
  });

  it('never takes a wrong secret for a remembered key of the same id', () => {
    const reader = generateKey('reader', ['read']);
    const ring = new KeyRing([reader.stored]);
    assert.equal(ring.check(reader.key, NOW).ok, true);
    const last = reader.key.at(-1) === 'A' ? 'B' : 'A';
    assert.deepEqual(ring.check(`${reader.key.slice(0, -1)}${last}`, NOW), { ok: false, reason: 'unknown' });
    assert.deepEqual(ring.check('pulse_nokey', NOW), { ok: false, reason: 'malformed' });
  });

  it('still checks every key when more keys are used than it remembers', () => {
    const keys = Array.from({ length: 1_100 }, (_, i) => generateKey(`k${i}`, ['read']));
    const ring = new KeyRing(keys.map((key) => key.stored));
    for (const key of keys) assert.equal(ring.check(key.key, NOW).ok, true);
    // The first keys were forgotten to make room: matched again from their hash.
    for (const key of keys.slice(0, 5)) assert.equal(ring.check(key.key, NOW).ok, true);
    ring.set({ ...(keys[0]?.stored as (typeof keys)[0]['stored']), revoked: true });
    assert.deepEqual(ring.check(keys[0]?.key as string, NOW), { ok: false, reason: 'revoked' });
  });
});
