/**
 * How the SSE freshness benchmark learns that a KPI value has moved: by the push feed. One
 * subscription per server to `GET /v1/stream?kpi=net_revenue&window=1h`, opened before the markers;
 * each `kpi` event's arrival time (the moment its chunk is read) is the sighting. The push
 * counterpart of `pollForValue` in kpi-watch.ts.
 */
import { toCents, type KpiWatch, type OpenWatch, type Sighting } from './kpi-watch.js';
import { BENCH_AUTH } from './pulse-process.js';

export const SSE_PATH = '/v1/stream?kpi=net_revenue&window=1h';

interface Waiter {
  readonly expectedCents: number;
  readonly resolve: (sighting: Sighting) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  events: number;
  decreases: number;
}

/** The `kpi` events of an SSE text stream (frames end with a blank line). */
function* kpiEvents(frames: readonly string[]): Generator<Record<string, unknown>> {
  for (const frame of frames) {
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (event === 'kpi' && data.length > 0) yield JSON.parse(data.join('\n')) as Record<string, unknown>;
  }
}

/** Subscribes to the feed; resolves once the server answered 200 with an event stream. */
export const openSseWatch: OpenWatch = async (baseUrl) => {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}${SSE_PATH}`, {
    headers: { ...BENCH_AUTH, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (response.status !== 200 || response.body === null) {
    throw new Error(`GET ${SSE_PATH} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  const waiters = new Set<Waiter>();
  let latest: { cents: number; at: number } | undefined;
  let ended: Error | undefined;
  const settle = (cents: number, at: number): void => {
    for (const waiter of waiters) {
      waiter.events++;
      if (latest !== undefined && cents < latest.cents) waiter.decreases++;
      if (cents < waiter.expectedCents) continue;
      waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve({ seenAt: at, checks: waiter.events, roundTrips: [], decreases: waiter.decreases });
    }
    latest = { cents, at };
  };
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        const at = performance.now();
        if (done) break;
        buffer += value;
        const frames = buffer.split('\n\n');
        buffer = frames.pop() ?? '';
        for (const payload of kpiEvents(frames)) {
          if (payload.id !== 'net_revenue' || payload.by !== null) continue;
          settle(toCents(payload.value), at);
        }
      }
      ended = new Error('the SSE stream ended');
    } catch (error) {
      ended = error instanceof Error ? error : new Error(String(error));
    }
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(ended);
    }
    waiters.clear();
  })();
  const watch: KpiWatch = {
    wait: (_baseUrl, expectedCents, timeoutMs) =>
      new Promise<Sighting>((resolve, reject) => {
        // Already pushed (the event can beat the POST's answer): seen when it arrived.
        if (latest !== undefined && latest.cents >= expectedCents) {
          resolve({ seenAt: latest.at, checks: 0, roundTrips: [], decreases: 0 });
          return;
        }
        if (ended) {
          reject(ended);
          return;
        }
        const waiter: Waiter = {
          expectedCents,
          resolve,
          reject,
          events: 0,
          decreases: 0,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`no SSE event reached ${expectedCents} cents within ${timeoutMs} ms`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      }),
    async close() {
      abort.abort();
      await reading;
    },
  };
  return watch;
};
