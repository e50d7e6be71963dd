import { BENCH_AUTH } from './pulse-process.js';
/**
 * How the freshness benchmark learns that a KPI value has moved: by polling
 * `GET /v1/kpis/net_revenue?window=1h` every 5 ms. Kept apart so that a push (SSE) version can
 * replace `pollForValue` without touching the benchmark.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const KPI_PATH = '/v1/kpis/net_revenue?window=1h';
export const POLL_MS = 5;

export interface Sighting {
  /** performance.now() when the answer showing the expected value arrived. */
  readonly seenAt: number;
  readonly checks: number;
  /** Round trips of the checks, ms. */
  readonly roundTrips: readonly number[];
  /** Checks that read a lower value than the one before (background refunds and cancellations). */
  readonly decreases: number;
}

/** Waits until the KPI value is at least `expectedCents`; rejects after `timeoutMs`. */
export type WaitForValue = (baseUrl: string, expectedCents: number, timeoutMs: number) => Promise<Sighting>;

/** A way of watching one server's KPI, opened once per server (an SSE subscription needs it). */
export interface KpiWatch {
  readonly wait: WaitForValue;
  close(): Promise<void>;
}
export type OpenWatch = (baseUrl: string) => Promise<KpiWatch>;

/** "-12.30" → -1230, exactly (money values are decimal strings with two decimals). */
export function toCents(value: unknown): number {
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new Error(`not a money value: ${text}`);
  const cents = Number(match[2]) * 100 + Number(`${match[3] ?? ''}00`.slice(0, 2));
  return match[1] === '-' ? -cents : cents;
}

/** The KPI's current value in integer cents. */
export async function readValueCents(baseUrl: string): Promise<number> {
  const response = await fetch(`${baseUrl}${KPI_PATH}`, { headers: BENCH_AUTH });
  const body = (await response.json()) as { value?: unknown };
  if (response.status !== 200) throw new Error(`GET ${KPI_PATH} answered ${response.status}`);
  return toCents(body.value);
}

/** Polls every POLL_MS, from the start of one GET to the start of the next. */
export const pollForValue: WaitForValue = async (baseUrl, expectedCents, timeoutMs) => {
  const roundTrips: number[] = [];
  const deadline = performance.now() + timeoutMs;
  let previous = Number.NEGATIVE_INFINITY;
  let decreases = 0;
  for (let checks = 1; ; checks++) {
    const sent = performance.now();
    const cents = await readValueCents(baseUrl);
    const seenAt = performance.now();
    roundTrips.push(seenAt - sent);
    if (cents < previous) decreases++;
    previous = cents;
    if (cents >= expectedCents) return { seenAt, checks, roundTrips, decreases };
    if (seenAt > deadline)
      throw new Error(`the value did not reach ${expectedCents} cents within ${timeoutMs} ms`);
    await sleep(Math.max(0, sent + POLL_MS - performance.now()));
  }
};

/** Polling needs no connection of its own. */
export const openPollingWatch: OpenWatch = async () => ({ wait: pollForValue, close: async () => undefined });
