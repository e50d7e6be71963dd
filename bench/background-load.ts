/**
 * A steady background load for the freshness benchmark: generated events posted as NDJSON batches
 * every tick at a fixed rate, at most `maxInFlight` requests at a time (a late tick sends a bigger
 * batch, so the rate holds, up to MAX_BATCH events a request: a server that cannot keep up falls
 * behind and the acknowledged rate shows it). Answers other than 200 are counted, never retried.
 *
 * The events come from an `EventLines`: generated while the load runs (`liveLines`), or serialised
 * before it starts (`preparedLines`). At 1,000,000 events a minute the simulator plans 1.9 M orders
 * ahead and generates on the cores the server needs, so a load generated live measures the bench as
 * much as Pulse; prepared lines leave the posting loop alone on the bench's side.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TrafficSimulator } from '../src/generator/index.js';
import { BENCH_AUTH } from './pulse-process.js';

/** The generator emits ~1.9 M events a day at 60,000 orders a day (measured over one simulated day). */
const EVENTS_PER_DAY_AT_60K_ORDERS = 1_900_000;
/** Well below Pulse's default max_batch_events (20,000). */
const MAX_BATCH = 10_000;

export interface BackgroundResult {
  /** Events acknowledged by 200 answers ÷ seconds from start to the last answer. */
  readonly acknowledgedPerSecond: number;
  /** Events posted ÷ the same seconds (below the target when one request at a time cannot keep up). */
  readonly offeredPerSecond: number;
  /** Events generated while the load ran, not prepared before it. */
  readonly generatedLive: number;
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

/** The NDJSON lines of the background events, in emission order. */
export interface EventLines {
  nextLine(): string;
  /** Lines generated while the load ran (0 when all were prepared before). */
  readonly generatedLive: number;
}

/** Lines generated and serialised as they are posted. */
export function liveLines(simulator: TrafficSimulator): EventLines {
  let generatedLive = 0;
  return {
    nextLine() {
      generatedLive++;
      return JSON.stringify(simulator.nextEvent());
    },
    get generatedLive() {
      return generatedLive;
    },
  };
}

/**
 * `count` lines serialised now; past them the simulator goes on live (counted), so a run that lasts
 * longer than planned still posts new events, never the same ones again.
 */
export function preparedLines(simulator: TrafficSimulator, count: number): EventLines {
  const lines: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) lines[i] = JSON.stringify(simulator.nextEvent());
  const live = liveLines(simulator);
  let next = 0;
  return {
    nextLine() {
      if (next < lines.length) {
        const line = lines[next] as string;
        // Free each line once posted: a prepared million-a-minute run holds about a gigabyte.
        lines[next++] = '';
        return line;
      }
      return live.nextLine();
    },
    get generatedLive() {
      return live.generatedLive;
    },
  };
}

export function startBackgroundLoad(
  baseUrl: string,
  events: EventLines,
  eventsPerSecond: number,
  tickMs: number,
  maxInFlight = 1,
): BackgroundLoad {
  const nonOk: Record<string, number> = {};
  const started = performance.now();
  let sent = 0;
  let acknowledged = 0;
  let lastAnswer = started;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
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
      const due = Math.min(MAX_BATCH, Math.floor(((tick - started) / 1000) * eventsPerSecond) - sent);
      if (due > 0 && inFlight.size < maxInFlight) {
        let body = '';
        for (let i = 0; i < due; i++) body += events.nextLine() + '\n';
        sent += due;
        const request = post(body).finally(() => inFlight.delete(request));
        inFlight.add(request);
        // One at a time: wait for the answer, as before; more: wait only when all slots are taken.
        if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      }
      await sleep(Math.max(0, tick + tickMs - performance.now()));
    }
    await Promise.all(inFlight);
  })();
  let result: BackgroundResult | undefined;
  return {
    async stop() {
      stopped = true;
      await loop;
      const seconds = (lastAnswer - started) / 1000;
      result ??= {
        acknowledgedPerSecond: acknowledged / seconds,
        offeredPerSecond: sent / seconds,
        generatedLive: events.generatedLive,
        nonOk,
      };
      return result;
    },
  };
}
