import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { generateEvents } from '../../src/generator/index.js';
import type { KpiAnswer } from '../../src/kpis/index.js';
import { assertLiveMatchesEngine } from '../support/live-compare.js';
import { deliverAndRefresh, orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const NOW = new Date('2026-03-10T12:00:00Z');

/** Reads Server-Sent Events until `accept` returns true for one of them, or the deadline passes. */
async function readSse(
  url: string,
  headers: Record<string, string>,
  onOpen: () => Promise<void>,
  accept: (data: Record<string, unknown>) => boolean,
  // Generous: on a loaded machine a refresh can take seconds; the latency itself is a benchmark.
  timeoutMs = 30_000,
) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const response = await fetch(url, { signal: controller.signal, headers });
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const seen: Record<string, unknown>[] = [];
  let opened = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (!data) continue;
        const parsed = JSON.parse(data.slice(6)) as Record<string, unknown>;
        seen.push(parsed);
        if (!opened) {
          opened = true;
          await onOpen();
        } else if (accept(parsed)) return { seen, match: parsed };
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { seen, match: undefined };
}

describe('live KPIs', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse({ now: () => NOW, refreshDebounceMs: 10 });
    const events = [
      ...generateEvents(new Date('2026-03-08T12:00:00Z'), NOW, { seed: 3, ordersPerDay: 2000 }),
    ];
    await deliverAndRefresh(pulse, events);
  });
  after(async () => pulse?.dispose());

  it('holds, for every KPI, window and breakdown, exactly what the engine computes for that window', async () => {
    const compared = await assertLiveMatchesEngine(pulse);
    // 3 windows × (6 totals + breakdowns: net 5, conversion 1, SLA 4, returns 5, CSAT 3, inventory 2)
    assert.equal(compared, 3 * (6 + 5 + 1 + 4 + 5 + 3 + 2));
    const today = pulse.live.get('net_revenue', 'today') as KpiAnswer;
    assert.equal(today.window.from, '2026-03-09T23:00:00.000Z', 'today starts at midnight in Paris');
    assert.notEqual(today.value, '0.00');
  });

  it('answers GET /v1/kpis from the live values, with lag', async () => {
    const response = await pulse.fetch(`${pulse.url}/v1/kpis?window=1h`);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = (await response.json()) as { kpis: KpiAnswer[] };
    assert.equal(body.kpis.length, 6);
    const live = pulse.live.get('conversion_rate', '1h') as KpiAnswer;
    assert.deepEqual(body.kpis[1]?.value, live.value);
    assert.ok(typeof body.kpis[1]?.lag_ms === 'number');
    // Field for field what the live values hold, in catalogue order (the lag is the clock's).
    assert.deepEqual(
      body.kpis.map(({ lag_ms: _lag, ...rest }) => rest),
      pulse.live.all('1h').map(({ lag_ms: _lag, ...rest }) => rest),
    );
    const one = await pulse.fetch(`${pulse.url}/v1/kpis/return_rate?window=24h&by=category`);
    const { lag_ms: lag, ...answer } = (await one.json()) as KpiAnswer;
    const { lag_ms: _lag, ...expected } = pulse.live.get('return_rate', '24h', 'category') as KpiAnswer;
    assert.deepEqual(answer, expected);
    assert.ok((expected.breakdown?.length ?? 0) > 1);
    assert.equal(typeof lag, 'number');
  });

  it('pushes the change a posted order makes over Server-Sent Events', async () => {
    const before = pulse.live.get('net_revenue', '1h') as KpiAnswer;
    // 1 line: 3 × 1000.00 − 0 − 2 tax = 2998.00 EUR, placed ten minutes before the pinned now.
    const expected = (Math.round(Number(before.value) * 100) + 299_800) / 100;
    const { match } = await readSse(
      `${pulse.url}/v1/stream?kpi=net_revenue&window=1h`,
      pulse.auth,
      async () => {
        const answer = await pulse.post(
          JSON.stringify(
            orderEvent({ orderId: 'SSE-1', placedAt: '2026-03-10T11:50:00Z', quantity: 3, unitPrice: 1000 }),
          ),
          'application/cloudevents+json',
        );
        assert.equal(answer.body.accepted, 1);
      },
      (data) => data.id === 'net_revenue' && Number(data.value) === expected,
    );
    assert.ok(match, `no SSE update to ${expected.toFixed(2)}`);
    assert.equal(match.window_name, '1h');
    assert.equal(typeof match.lag_ms, 'number');
    assert.ok((match.lag_ms as number) < 30_000);
  });

  it('pushes over WebSocket, filtered to one KPI and breakdown', async () => {
    const socket = new WebSocket(
      `${pulse.url.replace('http', 'ws')}/v1/ws?kpi=net_revenue&window=1h&by=channel`,
      { headers: pulse.auth },
    );
    socket.on('error', () => undefined); // a failed handshake rejects `got` below instead
    const messages: Record<string, unknown>[] = [];
    const got = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no WebSocket update; got ${JSON.stringify(messages.map((m) => m.breakdown))}`)),
        30_000,
      );
      socket.on('message', async (raw) => {
        const message = JSON.parse(String(raw)) as Record<string, unknown>;
        messages.push(message);
        if (messages.length === 1) {
          await pulse.post(
            JSON.stringify(
              orderEvent({ orderId: 'WS-1', placedAt: '2026-03-10T11:55:00Z', quantity: 1, unitPrice: 500 }),
            ),
            'application/cloudevents+json',
          );
          return;
        }
        const web = (message.breakdown as { key: string; value: string }[]).find(
          (point) => point.key === 'web',
        );
        const webBefore = (messages[0]?.breakdown as { key: string; value: string }[]).find(
          (point) => point.key === 'web',
        );
        // + (1 × 500.00 − 2.00 tax) on the web channel.
        if (
          web &&
          Math.round(Number(web.value) * 100) - Math.round(Number(webBefore?.value ?? 0) * 100) === 49_800
        ) {
          clearTimeout(timer);
          resolve(message);
        }
      });
    });
    const message = await got.finally(() => socket.terminate());
    assert.equal(message.type, 'kpi');
    assert.equal(message.by, 'channel');
    assert.ok(messages.every((m) => m.id === 'net_revenue'));
  });

  it('refuses a bad subscription with 400 naming the field', async () => {
    const response = await pulse.fetch(`${pulse.url}/v1/stream?kpi=gross_margin`);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { field: string } }).error.field, 'kpi');
  });

  it('exports ingest-to-visible latency and the other metrics', async () => {
    const text = await (await pulse.fetch(`${pulse.url}/metrics`)).text();
    const count = /pulse_ingest_to_visible_seconds_count (\d+)/.exec(text);
    assert.ok(count && Number(count[1]) > 0, 'ingest-to-visible observed');
    assert.match(text, /pulse_events_ingested_total\{source="http",outcome="accepted"\} \d+/);
    assert.match(text, /# TYPE pulse_commit_seconds histogram/);
    assert.match(text, /pulse_dedupe_keys_bytes \d+/);
    assert.match(text, /pulse_stream_subscribers\{transport="sse"\} 0/);
  });
});

describe('backpressure', () => {
  it('answers 503 with Retry-After when the commit queue is full, and keeps every acknowledged event', async () => {
    const pulse = await startTestPulse({ maxQueuedEvents: 100 });
    try {
      const bodies = Array.from({ length: 24 }, (_, r) =>
        JSON.stringify(Array.from({ length: 60 }, (_, i) => orderEvent({ orderId: `BP-${r}-${i}` }))),
      );
      const answers = await Promise.all(
        bodies.map(async (body) => {
          const response = await pulse.fetch(`${pulse.url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents-batch+json' },
            body,
          });
          return {
            status: response.status,
            retryAfter: response.headers.get('retry-after'),
            body: (await response.json()) as Record<string, unknown>,
          };
        }),
      );
      const refused = answers.filter((a) => a.status === 503);
      const acknowledged = answers.filter((a) => a.status === 200);
      assert.ok(refused.length > 0, 'some requests were refused');
      assert.ok(acknowledged.length > 0, 'some requests went through');
      assert.ok(
        refused.every(
          (a) => a.retryAfter === '1' && (a.body.error as { code: string }).code === 'PULSE_ERR_OVERLOADED',
        ),
      );
      const stored = await pulse.sql(
        `SELECT count(*)::INTEGER AS n FROM bronze_events WHERE event_id LIKE 'evt-BP-%'`,
      );
      assert.equal(
        stored[0]?.n,
        acknowledged.reduce((n, a) => n + Number(a.body.accepted), 0),
      );
      assert.equal(stored[0]?.n, acknowledged.length * 60);
    } finally {
      await pulse.dispose();
    }
  });
});
