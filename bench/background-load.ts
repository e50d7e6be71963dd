import { BENCH_AUTH } from './pulse-process.js';
/**
 * A steady background load for the freshness benchmark: generated events posted as NDJSON batches
 * every tick at a fixed rate, one request in flight at a time (a late tick sends a bigger batch, so
 * the rate holds). Answers other than 200 are counted, never retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TrafficSimulator, toNdjson } from '../src/generator/index.js';
import type { CloudEvent } from '../src/contracts/index.js';

/** The generator emits ~1.9 M events a day at 60,000 orders a day (measured over one simulated day). */
const EVENTS_PER_DAY_AT_60K_ORDERS = 1_900_000;

export interface BackgroundResult {
  /** Events acknowledged by 200 answers ÷ seconds from start to the last answer. */
  readonly acknowledgedPerSecond: number;
  readonly nonOk: Readonly<Record<string, number>>;
}

export interface BackgroundLoad {
  stop(): Promise<BackgroundResult>;
}

/** A simulator whose simulated time runs at about wall-clock speed at `eventsPerSecond`. */
export function backgroundSimulator(seed: number, eventsPerSecond: number): TrafficSimulator {
  const ordersPerDay = Math.round((60_000 * eventsPerSecond * 86_400) / EVENTS_PER_DAY_AT_60K_ORDERS);
  return new TrafficSimulator(new Date(), { seed, ordersPerDay });
}

export function startBackgroundLoad(
  baseUrl: string,
  simulator: TrafficSimulator,
  eventsPerSecond: number,
  tickMs: number,
): BackgroundLoad {
  const nonOk: Record<string, number> = {};
  const started = performance.now();
  let sent = 0;
  let acknowledged = 0;
  let lastAnswer = started;
  let stopped = false;
  const post = async (body: string): Promise<void> => {
    try {
      const response = await fetch(`${baseUrl}/v1/events`, {
        method: 'POST',
        headers: { ...BENCH_AUTH, 'content-type': 'application/x-ndjson' },
        body,
      });
      const text = await response.text();
      lastAnswer = performance.now();
      if (response.status === 200) {
        const receipt = JSON.parse(text) as { accepted: number; duplicates: number; quarantined: number };
        acknowledged += receipt.accepted + receipt.duplicates + receipt.quarantined;
      } else {
        nonOk[response.status] = (nonOk[response.status] ?? 0) + 1;
      }
    } catch {
      nonOk['network error'] = (nonOk['network error'] ?? 0) + 1;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const tick = performance.now();
      const due = Math.floor(((tick - started) / 1000) * eventsPerSecond) - sent;
      if (due > 0) {
        const batch: CloudEvent[] = [];
        while (batch.length < due) batch.push(simulator.nextEvent());
        sent += due;
        await post(toNdjson(batch));
      }
      await sleep(Math.max(0, tick + tickMs - performance.now()));
    }
  })();
  let result: BackgroundResult | undefined;
  return {
    async stop() {
      stopped = true;
      await loop;
      result ??= { acknowledgedPerSecond: acknowledged / ((lastAnswer - started) / 1000), nonOk };
      return result;
    },
  };
}
