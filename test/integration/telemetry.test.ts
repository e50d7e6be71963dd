import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';
import { closedPort, startLocalServer, type LocalServer } from '../support/http-server.js';

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links?: { traceId: string; spanId: string }[];
  attributes: { key: string; value: { intValue?: number | string; stringValue?: string } }[];
}

/** OTLP/JSON carries ids as hex; accept base64 too, so the test does not depend on the encoder's choice. */
const hex = (id: string | undefined) =>
  id === undefined || id === ''
    ? undefined
    : /^[0-9a-f]+$/.test(id)
      ? id
      : Buffer.from(id, 'base64').toString('hex');

function spansOf(receiver: LocalServer): OtlpSpan[] {
  return receiver.requests.flatMap((request) => {
    const body = JSON.parse(request.body.toString('utf8')) as {
      resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    return body.resourceSpans.flatMap((r) =>
      r.scopeSpans.flatMap((s) =>
        s.spans.map((span) => ({
          ...span,
          traceId: hex(span.traceId) as string,
          spanId: hex(span.spanId) as string,
          parentSpanId: hex(span.parentSpanId),
        })),
      ),
    );
  });
}

const attribute = (span: OtlpSpan | undefined, key: string) => {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  return value?.intValue !== undefined ? Number(value.intValue) : value?.stringValue;
};

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const batch = (...ids: string[]) => JSON.stringify(ids.map((orderId) => orderEvent({ orderId })));

describe('correlation ids in the logs of a real server', () => {
  let pulse: TestPulse;
  const lines: Record<string, unknown>[] = [];
  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
    });
    // A long debounce: the commits of concurrent requests are all waiting when the run starts.
    pulse = await startTestPulse({ logLevel: 'info', logStream: stream, refreshDebounceMs: 3_000 });
  });
  after(async () => pulse?.dispose());

  const post = (body: string, requestId?: string) =>
    pulse.fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
      },
      body,
    });

  it('echoes the caller id, or a generated one, and logs every request line with it', async () => {
    const given = await post(batch('C-1'), 'req-alpha-1');
    assert.equal(given.status, 200);
    assert.equal(given.headers.get('x-request-id'), 'req-alpha-1');
    const generated = await pulse.fetch(`${pulse.url}/v1/kpis`);
    const id = generated.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    const hostile = await pulse.fetch(`${pulse.url}/v1/kpis`, {
      headers: { 'x-request-id': 'a b<script>' },
    });
    assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'a malformed id is replaced');
    const long = await pulse.fetch(`${pulse.url}/v1/kpis`, { headers: { 'x-request-id': 'x'.repeat(500) } });
    assert.match(long.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'an oversized id is replaced');
    await until('request log lines', () =>
      lines.some((l) => l.correlation_id === id && l.msg === 'request completed') ? true : undefined,
    );
    const alpha = lines.filter((l) => l.correlation_id === 'req-alpha-1');
    assert.deepEqual(
      alpha.map((l) => l.msg),
      ['incoming request', 'request completed'],
    );
    await pulse.refresh(); // the run of req-alpha-1 happens now, not with the next test's requests
  });

  it('lists the ids of the requests behind a model run in its log line', async () => {
    const [a, b] = await Promise.all([post(batch('C-2', 'C-3'), 'req-A'), post(batch('C-4'), 'req-B')]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const run = await until('the run of req-A and req-B', () =>
      lines.find((l) => l.msg === 'model run' && (l.correlation_ids as string[]).includes('req-A')),
    );
    assert.deepEqual([...(run.correlation_ids as string[])].sort(), ['req-A', 'req-B']);
    assert.equal(run.correlation_id_count, 2);
    assert.equal(run.status, 'success');
    assert.equal(typeof run.run_id, 'string');
  });

  it('lists the first 20 ids and the count when many requests share a run', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `bulk-${i}`);
    const answers = await Promise.all(ids.map((id, i) => post(batch(`B-${i}`), id)));
    assert.ok(answers.every((r) => r.status === 200));
    const runs = await until('the runs of the 25 requests', () => {
      const found = lines.filter(
        (l) => l.msg === 'model run' && (l.correlation_ids as string[]).some((id) => id.startsWith('bulk-')),
      );
      const counted = found.reduce((n, l) => n + Number(l.correlation_id_count), 0);
      return counted >= 25 ? found : undefined;
    });
    for (const line of runs) {
      const listed = line.correlation_ids as string[];
      assert.equal(listed.length, Math.min(20, Number(line.correlation_id_count)));
    }
    // Nearly always one run (3 s debounce); on a loaded machine the 25 commits may straddle two.
    assert.equal(
      runs.reduce((n, l) => n + Number(l.correlation_id_count), 0),
      25,
    );
    assert.ok(
      runs.some(
        (l) => Number(l.correlation_id_count) > 20 && (l.correlation_ids as string[]).length === 20,
      ) || runs.length > 1,
    );
  });
});

describe('OpenTelemetry spans exported by OTLP/HTTP', () => {
  let pulse: TestPulse;
  let receiver: LocalServer;
  before(async () => {
    receiver = await startLocalServer((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    pulse = await startTestPulse({ otlpEndpoint: `${receiver.url}/v1/traces` });
  });
  after(async () => {
    await pulse?.dispose();
    await receiver?.close();
  });

  it('links ingest → commit → refresh → publish under the caller traceparent, with event counts', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const answer = await pulse.fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        traceparent: `00-${traceId}-${callerSpan}-01`,
        'x-request-id': 'traced-1',
      },
      // Two new orders and one repeated: accepted 2, duplicate 1.
      body: JSON.stringify([
        orderEvent({ orderId: 'T-1' }),
        orderEvent({ orderId: 'T-2' }),
        orderEvent({ orderId: 'T-1' }),
      ]),
    });
    assert.equal(answer.status, 200);
    await pulse.refresh();
    const spans = await until('the four spans', async () => {
      await pulse.telemetry.flush();
      const all = spansOf(receiver).filter((s) => s.traceId === traceId);
      const names = new Set(all.map((s) => s.name));
      return ['pulse.ingest', 'pulse.commit', 'pulse.refresh', 'pulse.publish'].every((n) => names.has(n))
        ? all
        : undefined;
    });
    const byName = (name: string) => spans.find((s) => s.name === name) as OtlpSpan;
    const ingest = byName('pulse.ingest');
    const commit = byName('pulse.commit');
    const refresh = byName('pulse.refresh');
    const publish = byName('pulse.publish');
    assert.equal(ingest.parentSpanId, callerSpan, 'the incoming traceparent is the parent');
    assert.equal(commit.parentSpanId, ingest.spanId);
    assert.equal(refresh.parentSpanId, commit.spanId);
    assert.equal(publish.parentSpanId, refresh.spanId);
    assert.equal(attribute(ingest, 'pulse.events.accepted'), 2);
    assert.equal(attribute(ingest, 'pulse.events.duplicates'), 1);
    assert.equal(attribute(ingest, 'pulse.correlation_id'), 'traced-1');
    assert.equal(attribute(commit, 'pulse.commit.events'), 3);
    assert.equal(attribute(commit, 'pulse.commit.requests'), 1);
    assert.equal(attribute(refresh, 'pulse.run.status'), 'success');
    assert.equal(attribute(refresh, 'pulse.run.correlation_ids'), 1);
    assert.equal(receiver.requests[0]?.url, '/v1/traces');
    const ready = (await (await fetch(`${pulse.url}/readyz`)).json()) as {
      checks: { telemetry: { status: string; spans_exported: number } };
    };
    assert.equal(ready.checks.telemetry.status, 'ok');
    assert.ok(ready.checks.telemetry.spans_exported >= 4);
  });

  it('starts a new trace when the traceparent is absent or malformed', async () => {
    const answer = await pulse.fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', traceparent: 'not-a-traceparent' },
      body: JSON.stringify(orderEvent({ orderId: 'T-3' })),
    });
    assert.equal(answer.status, 200);
    const ingest = await until('the span of the untraced request', async () => {
      await pulse.telemetry.flush();
      return spansOf(receiver).find(
        (s) =>
          s.name === 'pulse.ingest' &&
          attribute(s, 'pulse.events.accepted') === 1 &&
          s.parentSpanId === undefined,
      );
    });
    assert.match(ingest.traceId, /^[0-9a-f]{32}$/);
  });
});

describe('readiness reports every registered part', () => {
  it('shows a telemetry exporter that is down without making Pulse unready; a failing required part does', async () => {
    const port = await closedPort();
    const pulse = await startTestPulse({ otlpEndpoint: `http://127.0.0.1:${port}/v1/traces` });
    try {
      const answer = await pulse.post(batch('D-1'), 'application/cloudevents-batch+json');
      assert.equal(answer.status, 200, 'ingest does not depend on the exporter');
      await pulse.refresh();
      const telemetry = await until('the failed export', async () => {
        await pulse.telemetry.flush();
        const body = (await (await fetch(`${pulse.url}/readyz`)).json()) as {
          status: string;
          checks: Record<string, { status: string; required: boolean; error?: string; endpoint?: string }>;
        };
        return body.checks.telemetry?.status === 'failing' ? body : undefined;
      });
      assert.equal(telemetry.status, 'ready');
      assert.equal(telemetry.checks.telemetry?.required, false);
      assert.equal(telemetry.checks.telemetry?.endpoint, `http://127.0.0.1:${port}/v1/traces`);
      assert.ok((telemetry.checks.telemetry?.error ?? '').length > 0);
      assert.equal(telemetry.checks.warehouse?.status, 'ok');

      // A sink plugs in by registering its check; the route is untouched.
      const unregister = pulse.health.register('marts', {
        required: true,
        check: () => ({ status: 'failing', error: 'connection refused' }),
      });
      const down = await fetch(`${pulse.url}/readyz`);
      assert.equal(down.status, 503);
      const body = (await down.json()) as { status: string; checks: Record<string, { status: string }> };
      assert.equal(body.status, 'not_ready');
      assert.equal(body.checks.marts?.status, 'failing');
      unregister();
      assert.equal((await fetch(`${pulse.url}/readyz`)).status, 200);
      assert.throws(
        () => pulse.health.register('warehouse', { required: true, check: () => ({ status: 'ok' }) }),
        /already registered/,
      );
      // A check that throws counts as failing, with its message.
      pulse.health.register('broken', {
        required: false,
        check: () => {
          throw new Error('boom');
        },
      });
      const broken = (await (await fetch(`${pulse.url}/readyz`)).json()) as {
        checks: Record<string, { status: string; error: string }>;
      };
      assert.deepEqual([broken.checks.broken?.status, broken.checks.broken?.error], ['failing', 'boom']);
    } finally {
      await pulse.dispose();
    }
  });

  it('has no telemetry check when tracing is off', async () => {
    const pulse = await startTestPulse();
    try {
      const body = (await (await fetch(`${pulse.url}/readyz`)).json()) as { checks: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.checks).sort(), ['live', 'quality', 'refresh', 'warehouse']);
      assert.equal(pulse.telemetry.enabled, false);
    } finally {
      await pulse.dispose();
    }
  });
});
