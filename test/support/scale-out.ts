import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKey } from '../../src/security/index.js';
import { orderEvent, TEST_TOKEN_KEY } from './pulse.js';

export interface ScaleOutSetup {
  readonly gatewayConfig: string;
  readonly workerConfig: string;
  readonly ingestKey: string;
  readonly readKey: string;
}

/**
 * Config files for gateways and a worker sharing one stream. The gateway's has no token key (it
 * never tokenises); both accept the same keys from the file.
 */
export function writeScaleOutConfigs(
  dir: string,
  nats: { url: string; stream: string; subject: string; durable: string },
): ScaleOutSetup {
  const ingest = generateKey('producer', ['ingest']);
  const read = generateKey('dashboard', ['read']);
  const keys = [ingest, read].map(({ stored }) => ({
    id: stored.id,
    name: stored.name,
    sha256: stored.sha256,
    roles: [...stored.roles],
  }));
  const common = {
    log_level: 'warn',
    auth: { keys },
    sources: {
      nats: {
        servers: [nats.url],
        stream: nats.stream,
        subjects: [`${nats.subject}.>`],
        durable: nats.durable,
        batch: 200,
        max_ack_pending: 1000,
        // Short, so the batch a killed worker held comes back quickly.
        ack_wait_ms: 2000,
        nak_delay_ms: 200,
      },
    },
    gateway: { subject_prefix: nats.subject, publish_timeout_ms: 3000 },
  };
  const gatewayConfig = join(dir, 'gateway.yaml');
  const workerConfig = join(dir, 'worker.yaml');
  writeFileSync(gatewayConfig, stringify(common));
  writeFileSync(workerConfig, stringify({ ...common, privacy: { token_key: TEST_TOKEN_KEY } }));
  return { gatewayConfig, workerConfig, ingestKey: ingest.key, readKey: read.key };
}

/** Order i of a run: unit price 10 + (i mod 7), quantity 2, tax 2, no discount, in EUR. */
export function scaleOutOrder(tag: string, i: number) {
  return orderEvent({ id: `${tag}-${i}`, orderId: `${tag}-O${i}`, unitPrice: 10 + (i % 7) });
}

/** Net revenue of orders [0, n) by hand: Σ (2 × (10 + i mod 7) − 2), in cents. */
export function scaleOutNetCents(n: number): number {
  let cents = 0;
  for (let i = 0; i < n; i += 1) cents += (2 * (10 + (i % 7)) - 2) * 100;
  return cents;
}

export const SCALE_OUT_WINDOW = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';

export function centsOf(value: string): number {
  return Math.round(Number(value) * 100);
}
