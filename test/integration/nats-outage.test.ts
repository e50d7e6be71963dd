import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { natsServerMissing, PrivateNatsServer } from '../support/nats-server.js';
import { uniqueNatsNames } from '../support/nats.js';
import { freePort, spawnPulse, type PulseProcess } from '../support/processes.js';
import {
  centsOf,
  SCALE_OUT_WINDOW,
  scaleOutNetCents,
  scaleOutOrder,
  writeScaleOutConfigs,
  type ScaleOutSetup,
} from '../support/scale-out.js';

const missing = natsServerMissing();
const BATCH = 'application/cloudevents-batch+json';

describe(
  'NATS outage: KPIs keep being served, the gateway answers 503, the worker catches up',
  { skip: missing },
  () => {
    const names = uniqueNatsNames('outage');
    let dir: string;
    let server: PrivateNatsServer;
    let setup: ScaleOutSetup;
    let gateway: { process: PulseProcess; url: string };
    let worker: { process: PulseProcess; url: string };

    const post = (events: unknown[]) =>
      fetch(`${gateway.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': BATCH, authorization: `Bearer ${setup.ingestKey}` },
        body: JSON.stringify(events),
      });
    async function netRevenue(): Promise<{ status: number; cents?: number }> {
      const response = await fetch(`${worker.url}/v1/kpis/net_revenue?${SCALE_OUT_WINDOW}`, {
        headers: { authorization: `Bearer ${setup.readKey}` },
      });
      if (response.status !== 200) return { status: response.status };
      return { status: 200, cents: centsOf(((await response.json()) as { value: string }).value) };
    }
    async function waitForNet(cents: number): Promise<number | undefined> {
      const deadline = Date.now() + 90_000;
      let seen = await netRevenue();
      while (seen.cents !== cents && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        seen = await netRevenue();
      }
      return seen.cents;
    }
    const orders = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => scaleOutOrder(names.stream, from + i));

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pulse-outage-'));
      server = new PrivateNatsServer(await freePort(), join(dir, 'jetstream'));
      await server.start();
      setup = writeScaleOutConfigs(dir, { url: server.url, ...names });
      const gatewayProcess = spawnPulse(['gateway', '--config', setup.gatewayConfig, '--port', '0'], {
        PULSE_TOKEN_KEY: undefined,
      });
      const workerProcess = spawnPulse([
        'worker',
        '--config',
        setup.workerConfig,
        '--db',
        join(dir, 'worker.duckdb'),
        '--port',
        '0',
      ]);
      gateway = {
        process: gatewayProcess,
        url: (await gatewayProcess.waitFor(/running on (http:\/\/\S+),/))[1]!,
      };
      worker = { process: workerProcess, url: (await workerProcess.waitFor(/API on (http:\/\/\S+),/))[1]! };
      await workerProcess.waitFor(/Consuming stream/);
    });
    after(async () => {
      await gateway?.process.stop();
      await worker?.process.stop();
      await server?.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves KPIs through the outage and catches up when NATS returns', async () => {
      assert.equal((await post(orders(0, 40))).status, 200);
      assert.equal(await waitForNet(scaleOutNetCents(40)), scaleOutNetCents(40));

      await server.kill();
      // The gateway cannot publish: 503 with Retry-After, never a 2xx for events it could not store.
      const deadline = Date.now() + 30_000;
      let refused = await post(orders(40, 20));
      while (refused.status !== 503 && Date.now() < deadline) {
        assert.notEqual(refused.status, 200, 'a 2xx while NATS is down would be a lie');
        await new Promise((resolve) => setTimeout(resolve, 200));
        refused = await post(orders(40, 20));
      }
      assert.equal(refused.status, 503);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.equal(
        ((await refused.json()) as { error: { code: string } }).error.code,
        'PULSE_ERR_STREAM_UNAVAILABLE',
      );
      const ready = await fetch(`${gateway.url}/readyz`);
      assert.equal(ready.status, 503);
      // The worker stays ready (it serves reads) and shows the source disconnected.
      const workerReady = await fetch(`${worker.url}/readyz`);
      assert.equal(workerReady.status, 200);
      const checks = ((await workerReady.json()) as { checks: { nats: { status: string; state: string } } })
        .checks;
      assert.equal(checks.nats.status, 'failing');
      assert.equal(checks.nats.state, 'disconnected');
      // The worker keeps answering KPI reads from its warehouse, with what it had committed.
      for (let i = 0; i < 3; i += 1) {
        assert.deepEqual(await netRevenue(), { status: 200, cents: scaleOutNetCents(40) });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }

      await server.start();
      // A producer retries on 503 until the gateway has reconnected.
      const retryUntil = Date.now() + 60_000;
      let accepted = await post(orders(40, 40));
      while (accepted.status === 503 && Date.now() < retryUntil) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        accepted = await post(orders(40, 40));
      }
      assert.equal(accepted.status, 200);
      assert.equal(await waitForNet(scaleOutNetCents(80)), scaleOutNetCents(80));
    });
  },
);
