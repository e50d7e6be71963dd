import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { KpiAnswer } from '../../src/kpis/index.js';
import { answerJson, renderAnswersJson } from '../../src/kpis/live-json.js';

// Only the fields the rendering sees; the text is multi-byte on purpose (€, –, ü).
const answer = {
  id: 'net_revenue',
  label: 'Net Revenue – €',
  value: '1234.50',
  as_of: '2026-03-10T11:59:00.000Z',
  lag_ms: 17,
  quality: 'ok',
  definition: { description: 'Umsatz für den Tag', owner: 'finance' },
} as unknown as KpiAnswer;

describe('live answers as JSON text', () => {
  it('renders the answer with the lag as of the read, keys in their order', () => {
    const json = answerJson(answer, Date.parse('2026-03-10T12:00:00.000Z'));
    const text = renderAnswersJson([json], new Date('2026-03-10T12:00:01.250Z')).toString('utf8');
    assert.equal(
      text,
      '{"id":"net_revenue","label":"Net Revenue – €","value":"1234.50","as_of":"2026-03-10T11:59:00.000Z",' +
        '"lag_ms":1250,"quality":"ok","definition":{"description":"Umsatz für den Tag","owner":"finance"}}',
    );
    // The same text, read later, carries the later lag and nothing else changes.
    const later = renderAnswersJson([json], new Date('2026-03-10T12:00:03Z')).toString('utf8');
    assert.deepEqual(JSON.parse(later), { ...answer, lag_ms: 3000 });
  });

  it('gives a null lag when no event is included, and never a negative one', () => {
    const none = renderAnswersJson([answerJson(answer, null)], new Date()).toString('utf8');
    assert.equal((JSON.parse(none) as KpiAnswer).lag_ms, null);
    const ahead = answerJson(answer, Date.parse('2026-03-10T12:00:05Z'));
    const early = renderAnswersJson([ahead], new Date('2026-03-10T12:00:00Z')).toString('utf8');
    assert.equal((JSON.parse(early) as KpiAnswer).lag_ms, 0);
  });

  it('joins several answers into one document between the given brackets', () => {
    const first = answerJson(answer, 1_000);
    const second = answerJson({ ...answer, id: 'csat_index', value: 4.25 } as KpiAnswer, 2_000);
    const body = renderAnswersJson([first, second], new Date(5_000), '{"kpis":[', ']}');
    assert.deepEqual(JSON.parse(body.toString('utf8')), {
      kpis: [
        { ...answer, lag_ms: 4_000 },
        { ...answer, id: 'csat_index', value: 4.25, lag_ms: 3_000 },
      ],
    });
    assert.equal(renderAnswersJson([], new Date(), '[', ']').toString(), '[]');
  });

  it('appends the lag when the answer has none, and copes with an answer of nothing else', () => {
    const { lag_ms: _lag, ...rest } = answer;
    const json = answerJson(rest as KpiAnswer, 0);
    assert.deepEqual(JSON.parse(renderAnswersJson([json], new Date(10)).toString()), { ...rest, lag_ms: 10 });
    const bare = answerJson({ lag_ms: 1 } as unknown as KpiAnswer, 0);
    assert.equal(renderAnswersJson([bare], new Date(10)).toString(), '{"lag_ms":10}');
  });
});
