import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPulse, type PulseOptions, type RunningPulse } from '../../src/app.js';
import { generateKey, type Role } from '../../src/security/index.js';
import { queryRows, type Row } from '../../src/warehouse/index.js';

export const TEST_TOKEN_KEY = 'test-key-0123456789abcdef';

export interface TestPulse extends RunningPulse {
  readonly dir: string;
  readonly dbPath: string;
  /** An API key with every role (admin). */
  readonly key: string;
  /** Authorization headers for `key`. */
  readonly auth: Record<string, string>;
  /** fetch with the admin key. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** A new key with these roles, accepted by this Pulse. */
  keyFor(...roles: Role[]): Promise<string>;
  sql(text: string): Promise<Row[]>;
  post(body: string, contentType: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Stops the server and removes its folder. */
  dispose(): Promise<void>;
}

/** A real Pulse on a real DuckDB file in a fresh temporary folder, on a free port. */
export async function startTestPulse(
  options: Partial<PulseOptions> & { dir?: string } = {},
): Promise<TestPulse> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pulse-test-'));
  const dbPath = join(dir, 'pulse.duckdb');
  const admin = generateKey('test admin', ['admin']);
  const pulse = await startPulse({
    dbPath,
    tokenKey: TEST_TOKEN_KEY,
    port: 0,
    timeZone: 'Europe/Paris',
    apiKeys: [admin.stored],
    ...options,
  });
  const auth = { authorization: `Bearer ${admin.key}` };
  const authedFetch = (url: string, init: RequestInit = {}) =>
    fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } });
  return Object.assign(Object.create(null) as object, pulse, {
    dir,
    dbPath,
    key: admin.key,
    auth,
    fetch: authedFetch,
    async keyFor(...roles: Role[]) {
      const response = await authedFetch(`${pulse.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `test ${roles.join(' ')}`, roles }),
      });
      if (response.status !== 201)
        throw new Error(`key creation failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { key: string }).key;
    },
    sql: (text: string) => queryRows(pulse.warehouse.reader, text),
    async post(body: string, contentType: string) {
      const response = await authedFetch(`${pulse.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async dispose() {
      await pulse.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  }) as TestPulse;
}

let counter = 0;

/** Delivers events as a source would, 10,000 at a time, then runs a refresh. */
export async function deliverAndRefresh(pulse: TestPulse, events: readonly unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 10_000) {
    await pulse.deliver(
      events.slice(i, i + 10_000).map((value) => ({ kind: 'value', value })),
      { sourceKind: 'test' },
    );
  }
  await pulse.refresh();
}

/** A valid order.placed CloudEvent with PII, in EUR. */
export function orderEvent(
  overrides: {
    id?: string;
    orderId?: string;
    placedAt?: string;
    quantity?: number;
    unitPrice?: number;
    sku?: string;
  } = {},
) {
  counter += 1;
  const orderId = overrides.orderId ?? `O-${counter}`;
  return {
    specversion: '1.0',
    id: overrides.id ?? `evt-${orderId}`,
    source: '/shop/web',
    type: 'order.placed',
    time: '2026-03-10T10:00:01Z',
    data: {
      order_id: orderId,
      placed_at: overrides.placedAt ?? '2026-03-10T10:00:00Z',
      customer_id: 'C-42',
      email: 'jane.doe@example.com',
      name: 'Jane Doe',
      phone: '+33 6 12 34 56 78',
      channel: 'web',
      brand: 'aurora',
      country: 'FR',
      currency: 'EUR',
      promised_delivery_at: '2026-03-13T10:00:00Z',
      lines: [
        {
          line_no: 1,
          sku: overrides.sku ?? 'SKU-1',
          quantity: overrides.quantity ?? 2,
          unit_price: overrides.unitPrice ?? 10,
          discount: 0,
          tax: 2,
        },
      ],
    },
  };
}
