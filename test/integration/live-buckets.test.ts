import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateEvents } from '../../src/generator/index.js';
import type { RunResult } from '../../src/models/index.js';
import { assertLiveMatchesEngine } from '../support/live-compare.js';
import { deliverAndRefresh, orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const MINUTE = 60_000;

/**
 * The live values sum minute buckets kept from what each run changed. Against the engine's plain
 * queries over the rows, at a clock that is never on a whole minute (so every window has part
 * minutes at both ends), after late events, a cancellation three hours back and a minute that
 * passes without events.
 */
describe('live values from minute buckets', () => {
  let pulse: TestPulse;
  let clock = new Date('2026-03-10T12:00:27.450Z');
  const runs: RunResult[] = [];

  const deliver = (events: unknown[]) => deliverAndRefresh(pulse, events);

  before(async () => {
    pulse = await startTestPulse({ now: () => clock, refreshDebounceMs: 10 });
    pulse.runner.onCommit((result) => runs.push(result));
    await deliver([
      ...generateEvents(new Date('2026-03-08T12:00:00Z'), clock, { seed: 11, ordersPerDay: 2000 }),
    ]);
  });
  after(async () => pulse?.dispose());

  it('builds the buckets and agrees with the rows at a clock between minutes', async () => {
    const tables = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = 'pulse_live'`,
    );
    // conversion (2), net revenue, SLA (2) and CSAT (2) by their shared dimensions, and CSAT's
    // num/den per customer dimension are not live: 7 summed from buckets.
    assert.equal(tables[0]?.n, 9);
    assert.equal(await assertLiveMatchesEngine(pulse, 'first refresh'), 3 * 26);
  });

  it('agrees after late events, a cancellation three hours back and new traffic', async () => {
    const [picked] = await pulse.sql(
      `SELECT order_id, epoch_ms(placed_at) AS placed FROM fact_order
       WHERE status <> 'cancelled' AND placed_at < TIMESTAMPTZ '2026-03-10 09:00:00+00'
       ORDER BY placed_at DESC, order_id LIMIT 1`,
    );
    assert.ok(picked, 'an order three hours back');
    const before = clock;
    clock = new Date(clock.getTime() + 95_300);
    runs.length = 0;
    const at = (ms: number) => new Date(clock.getTime() - ms).toISOString();
    await deliver([
      ...generateEvents(before, clock, { seed: 12, ordersPerDay: 2000 }),
      {
        specversion: '1.0',
        id: 'evt-cancel-late',
        source: '/oms',
        type: 'order.status_changed',
        time: clock.toISOString(),
        data: { order_id: picked.order_id, status: 'cancelled', changed_at: at(1_000) },
      },
      // In the 24 h window's first part-minute, just before it, and in a whole minute 30 min back.
      orderEvent({ orderId: 'LATE-HEAD', placedAt: at(24 * 3_600_000 - 20_000), unitPrice: 31 }),
      orderEvent({ orderId: 'LATE-OUT', placedAt: at(24 * 3_600_000 + 20_000), unitPrice: 37 }),
      orderEvent({ orderId: 'LATE-30', placedAt: at(30 * MINUTE), unitPrice: 41 }),
      {
        specversion: '1.0',
        id: 'evt-session-late',
        source: '/web',
        type: 'session.started',
        time: clock.toISOString(),
        data: { session_id: 'S-LATE', started_at: at(2 * 3_600_000), channel: 'web', device: 'desktop' },
      },
    ]);
    const orderMinutes = new Set(runs.flatMap((run) => run.changedMinutes.get('fact_order') ?? []));
    const placed = Number(picked.placed);
    assert.ok(
      orderMinutes.has(placed - (placed % MINUTE)),
      'the cancelled order’s minute is reported changed',
    );
    const [late] = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM fact_order WHERE order_id LIKE 'LATE-%'`,
    );
    assert.equal(late?.n, 3, 'the late orders reached gold');
    assert.equal(await assertLiveMatchesEngine(pulse, 'after late events'), 3 * 26);
  });

  it('takes a row out of the minute it left: a delivery time corrected by a later event', async () => {
    // The shipment's row moves from one delivery minute to another: only the old row knows the
    // minute it leaves, so the run must read it before it deletes it.
    const [picked] = await pulse.sql(
      `SELECT shipment_id, order_id, epoch_ms(delivered_at) AS delivered FROM fact_shipment
       WHERE delivered_at BETWEEN TIMESTAMPTZ '2026-03-10 04:00:00+00' AND TIMESTAMPTZ '2026-03-10 08:00:00+00'
       ORDER BY delivered_at, shipment_id LIMIT 1`,
    );
    assert.ok(picked, 'a shipment delivered that morning');
    const delivered = Number(picked.delivered);
    const corrected = new Date(delivered + 95 * MINUTE).toISOString();
    runs.length = 0;
    await deliver([
      {
        specversion: '1.0',
        id: 'evt-delivery-corrected',
        source: '/carrier',
        type: 'shipment.delivered',
        time: clock.toISOString(),
        data: { shipment_id: picked.shipment_id, order_id: picked.order_id, delivered_at: corrected },
      },
    ]);
    const [moved] = await pulse.sql(
      `SELECT epoch_ms(delivered_at) AS delivered FROM fact_shipment WHERE shipment_id = '${String(picked.shipment_id)}'`,
    );
    assert.equal(Number(moved?.delivered), Date.parse(corrected), 'gold holds the corrected time');
    const minutes = new Set(runs.flatMap((run) => run.changedMinutes.get('fact_shipment') ?? []));
    assert.ok(minutes.has(delivered - (delivered % MINUTE)), 'the minute it left is reported changed');
    assert.ok(minutes.has(Date.parse(corrected) - (Date.parse(corrected) % MINUTE)), 'and the one it joined');
    assert.equal(await assertLiveMatchesEngine(pulse, 'after a corrected delivery'), 3 * 26);
  });

  it('agrees after a minute passes without events', async () => {
    clock = new Date(clock.getTime() + 61_700);
    await pulse.live.recompute();
    assert.equal(await assertLiveMatchesEngine(pulse, 'a minute later'), 3 * 26);
  });
});
