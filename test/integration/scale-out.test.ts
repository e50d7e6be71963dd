import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectTestNats, deleteStream, NATS_URL, natsMissing, uniqueNatsNames } from '../support/nats.js';
import { spawnPulse, type PulseProcess } from '../support/processes.js';
import {
  centsOf,
  SCALE_OUT_WINDOW,
  scaleOutNetCents,
  scaleOutOrder,
  writeScaleOutConfigs,
  type ScaleOutSetup,
} from '../support/scale-out.js';

const missing = await natsMissing();
const BATCH = 'application/cloudevents-batch+json';

describe('scale-out: gateway × 2 → NATS JetStream → worker (real processes)', { skip: missing }, () => {
  const names = uniqueNatsNames('scaleout');
  let dir: string;
  let setup: ScaleOutSetup;
  let nc: NatsConnection;
  let gateways: { process: PulseProcess; url: string }[] = [];
  let worker: { process: PulseProcess; url: string } | undefined;
  const dbPath = () => join(dir, 'worker.duckdb');

  async function startWorker() {
    const process = spawnPulse(['worker', '--config', setup.workerConfig, '--db', dbPath(), '--port', '0']);
    const [, url] = await process.waitFor(/API on (http:\/\/\S+),/);
    await process.waitFor(/Consuming stream/);
    worker = { process, url: url! };
  }
  async function post(gateway: string, body: unknown, key = setup.ingestKey) {
    const response = await fetch(`${gateway}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': BATCH, authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  async function netRevenueCents(): Promise<number | undefined> {
    const response = await fetch(`${worker!.url}/v1/kpis/net_revenue?${SCALE_OUT_WINDOW}`, {
      headers: { authorization: `Bearer ${setup.readKey}` },
    });
    if (response.status !== 200) return undefined;
    return centsOf(((await response.json()) as { value: string }).value);
  }
  async function waitForNet(cents: number): Promise<number | undefined> {
    const deadline = Date.now() + 90_000;
    let seen = await netRevenueCents();
    while (seen !== cents && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      seen = await netRevenueCents();
    }
    return seen;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-scaleout-'));
    nc = await connectTestNats();
    setup = writeScaleOutConfigs(dir, { url: NATS_URL, ...names });
    gateways = await Promise.all(
      [0, 1].map(async () => {
        const process = spawnPulse(['gateway', '--config', setup.gatewayConfig, '--port', '0'], {
          PULSE_TOKEN_KEY: undefined,
        });
        const [, url] = await process.waitFor(/running on (http:\/\/\S+),/);
        return { process, url: url! };
      }),
    );
    await startWorker();
  });
  after(async () => {
    for (const gateway of gateways) await gateway.process.stop();
    await worker?.process.stop();
    if (nc) {
      await deleteStream(nc, names.stream);
      await nc.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers producers after JetStream has the events, and the worker turns them into KPIs', async () => {
    // 120 orders in 6 batches of 20, alternating between the two gateways.
    for (let batch = 0; batch < 6; batch += 1) {
      const events = Array.from({ length: 20 }, (_, i) => scaleOutOrder(names.stream, batch * 20 + i));
      const { status, body } = await post(gateways[batch % 2]!.url, events);
      assert.equal(status, 200);
      assert.equal(body.accepted, 20);
      assert.equal(body.quarantined, 0);
    }
    assert.equal(await waitForNet(scaleOutNetCents(120)), scaleOutNetCents(120));
  });

  it('answers contract violations to the producer and still quarantines them in the warehouse', async () => {
    const bad = { ...scaleOutOrder(names.stream, 9_000), id: `${names.stream}-bad` };
    (bad.data.lines[0] as { quantity: number }).quantity = 0;
    const { status, body } = await post(gateways[0]!.url, [bad]);
    assert.equal(status, 422);
    const reported = (body.quarantined_events as Record<string, unknown>[])[0];
    assert.equal(reported?.rule, 'minimum');
    assert.equal(reported?.field, 'data.lines[0].quantity');
    assert.equal(reported?.id, `${names.stream}-bad`);
    // Refused keys and bodies are answered by the gateway itself, as by `pulse start`.
    assert.equal((await post(gateways[1]!.url, [bad], setup.readKey)).status, 403);
    const garbage = await fetch(`${gateways[1]!.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': BATCH, authorization: `Bearer ${setup.ingestKey}` },
      body: '[{"specversion":',
    });
    assert.equal(garbage.status, 400);
    assert.equal(((await garbage.json()) as { error: { field: string } }).error.field, '(body)');
    // The quarantined event reaches the warehouse: seen after the worker stops (it holds the file).
    // Checked in the last case, which stops the worker.
  });

  it('loses nothing and doubles nothing when the worker is killed mid-stream and restarted', async () => {
    const from = 120;
    const total = 400;
    const sending = (async () => {
      for (let batch = 0; batch < (total - from) / 20; batch += 1) {
        const events = Array.from({ length: 20 }, (_, i) =>
          scaleOutOrder(names.stream, from + batch * 20 + i),
        );
        const { status } = await post(gateways[batch % 2]!.url, events);
        assert.equal(status, 200);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await worker!.process.stop('SIGKILL'), null);
    await sending;
    // A producer retrying the first batch twice: JetStream (message id) or bronze drops it.
    const retry = Array.from({ length: 20 }, (_, i) => scaleOutOrder(names.stream, i));
    assert.equal((await post(gateways[0]!.url, retry)).body.duplicates, 20);
    await startWorker();
    assert.equal(await waitForNet(scaleOutNetCents(total)), scaleOutNetCents(total));
    await worker!.process.stop();
    worker = undefined;
    // With the worker stopped, the file can be read: every id once, and the quarantined event.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(dbPath(), { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    const rows = (
      await connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM bronze_events WHERE event_id LIKE '${names.stream}-%'`,
      )
    ).getRowObjectsJson()[0];
    assert.deepEqual(rows, { n: total, ids: total });
    const quarantine = (
      await connection.runAndReadAll(
        `SELECT rule, field, source_kind FROM quarantine WHERE event_id = '${names.stream}-bad'`,
      )
    ).getRowObjectsJson();
    assert.deepEqual(quarantine, [{ rule: 'minimum', field: 'data.lines[0].quantity', source_kind: 'nats' }]);
    connection.closeSync();
    instance.closeSync();
  });
});
