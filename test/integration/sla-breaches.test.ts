import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { SlaBreach } from '../../src/orchestrator/index.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

type Json = Record<string, unknown>;

/**
 * `GET /v1/sla-breaches` serves what the SLA monitor records: a cadence job run with an SLA it
 * cannot meet breaches through the real code path (CadenceJobs → SlaMonitor → pulse_sla_breaches).
 */
describe('GET /v1/sla-breaches', () => {
  let pulse: TestPulse;
  const seen: SlaBreach[] = [];
  let runIds: string[] = [];

  before(async () => {
    pulse = await startTestPulse({ refreshDebounceMs: 3_600_000 });
    const unsubscribe = pulse.sla.onBreach((breach) => seen.push(breach));
    runIds = [];
    for (const [name, orderId] of [
      ['kpi_first', 'SLA-1'],
      ['kpi_second', 'SLA-2'],
    ] as const) {
      const posted = await pulse.post(
        JSON.stringify(orderEvent({ orderId, placedAt: new Date().toISOString() })),
        'application/cloudevents+json',
      );
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      // A refresh cannot finish within 1 ms: the job breaches its SLA.
      const result = await pulse.jobs.tick({ name, kpis: ['net_revenue'], everyMs: 120_000, slaMs: 1 });
      runIds.push(result?.runId as string);
    }
    unsubscribe();
  });
  after(async () => {
    await pulse?.dispose();
  });

  it('answers the recorded breaches newest first, as the monitor saw them', async () => {
    assert.equal(seen.length, 2);
    const response = await pulse.fetch(`${pulse.url}/v1/sla-breaches`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { breaches: Json[] };
    assert.deepEqual(
      body.breaches.map((b) => [b.job, b.run_id, b.sla_ms]),
      [
        ['kpi_second', runIds[1], 1],
        ['kpi_first', runIds[0], 1],
      ],
    );
    for (const [i, breach] of [...seen].reverse().entries()) {
      const served = body.breaches[i] as Json;
      assert.equal(served.breached_at, breach.at.toISOString());
      assert.equal(served.actual_ms, Math.round(breach.actualMs * 10) / 10);
      assert.ok(Number(served.actual_ms) > 1);
      assert.equal(served.detail, breach.detail);
    }
    const rows = await pulse.sql(`SELECT count(*)::INTEGER AS n FROM pulse_sla_breaches`);
    assert.equal(rows[0]?.n, 2);
  });

  it('keeps to the limit', async () => {
    const body = (await (await pulse.fetch(`${pulse.url}/v1/sla-breaches?limit=1`)).json()) as {
      breaches: Json[];
    };
    assert.deepEqual(
      body.breaches.map((b) => b.job),
      ['kpi_second'],
    );
  });

  it('refuses a bad limit, naming the field', async () => {
    for (const path of ['?limit=0', '?limit=5000', '?limit=abc', '?colour=red']) {
      const response = await pulse.fetch(`${pulse.url}/v1/sla-breaches${path}`);
      assert.equal(response.status, 400, path);
      const body = (await response.json()) as { error: { field?: string } };
      assert.equal(body.error.field, path.slice(1).split('=')[0], path);
    }
  });

  it('is for read keys: an ingest or seller key is refused, no key is unauthenticated', async () => {
    const reader = await pulse.keyFor('read');
    const read = await fetch(`${pulse.url}/v1/sla-breaches`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    assert.equal(read.status, 200);
    for (const role of ['ingest', 'seller:S1'] as const) {
      const key = await pulse.keyFor(role);
      const response = await fetch(`${pulse.url}/v1/sla-breaches`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(response.status, 403, role);
    }
    assert.equal((await fetch(`${pulse.url}/v1/sla-breaches`)).status, 401);
  });
});
