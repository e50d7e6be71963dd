import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTokeniser, protectData, redactForQuarantine, redactText } from '../../src/privacy/index.js';

const KEY = 'unit-test-key-0123456789';

describe('privacy at the door', () => {
  it('tokenises with a keyed HMAC: same input and key, same token; another key, another token', () => {
    const tokeniser = createTokeniser(KEY);
    const expected = createHmac('sha256', KEY).update('C-42').digest('hex').slice(0, 32);
    assert.equal(tokeniser.token('C-42'), expected);
    assert.notEqual(createTokeniser('another-key-0123456789').token('C-42'), expected);
    assert.throws(() => createTokeniser('short'), /at least 16/);
  });

  it('drops PII fields and replaces customer_id by its token', () => {
    const tokeniser = createTokeniser(KEY);
    const safe = protectData(
      {
        order_id: 'O1',
        customer_id: 'C-42',
        email: 'a@b.fr',
        name: 'Jane',
        phone: '+33 6 12 34 56 78',
        channel: 'web',
      },
      { drop: ['email', 'name', 'phone'], tokenise: ['customer_id'] },
      tokeniser,
    );
    assert.deepEqual(safe, { order_id: 'O1', customer_token: tokeniser.token('C-42'), channel: 'web' });
  });

  it('redacts PII at any depth in a quarantined payload, and bounds long strings', () => {
    const tokeniser = createTokeniser(KEY);
    const payload = redactForQuarantine(
      {
        data: {
          lines: [{ email: 'x@y.com' }],
          note: 'call +44 20 7946 0958',
          customer_id: 'C-1',
          long: 'z'.repeat(10_000),
        },
      },
      tokeniser,
    ) as {
      data: { lines: { email: string }[]; note: string; customer_token: string; long: string };
    };
    assert.equal(payload.data.lines[0]?.email, '[redacted]');
    assert.equal(payload.data.note, 'call [redacted]');
    assert.equal(payload.data.customer_token, tokeniser.token('C-1'));
    assert.ok(payload.data.long.length < 4_200 && payload.data.long.endsWith('…[truncated]'));
  });

  it('masks e-mail addresses in raw text without catastrophic backtracking', () => {
    assert.equal(redactText('from jane.doe@example.com on 2026-03-10'), 'from [redacted] on 2026-03-10');
    assert.equal(redactText('user@localhost stays'), 'user@localhost stays');
    // A 1 MB run of address characters with no '@' used to take minutes with a regular expression.
    assert.ok(redactText(`${'x'.repeat(1_000_000)}@`).length < 5_000);
  });
});
