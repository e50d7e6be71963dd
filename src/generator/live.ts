/**
 * Live traffic: runs the simulation against the wall clock and hands the events that are due to a
 * callback, every `intervalMs`. One batch at a time: the next tick starts only after `onBatch` has
 * settled, so a slow consumer gets bigger batches, never parallel ones or an unbounded queue.
 */
import type { CloudEvent } from '../contracts/types.js';
import { TrafficSimulator, resolveGeneratorOptions } from './generator.js';
import type { GeneratorOptions } from './generator.js';

export interface LiveTrafficOptions extends GeneratorOptions {
  /** Receives each batch of due events, in emission order; awaited before the next batch. */
  onBatch(events: CloudEvent[]): Promise<void>;
  /** Time between batches, ms (default 250). */
  intervalMs?: number;
  /** Simulated milliseconds per wall-clock millisecond (default 1: real time). */
  speed?: number;
  /** Most events handed over in one batch (default 100,000); the rest follow right after. */
  maxBatchSize?: number;
  /**
   * Called when onBatch rejects; the traffic then goes on with the next batch. Without it, the
   * traffic stops at the first failure and `stop()` rejects with it.
   */
  onError?(error: unknown): void;
  /** Start of the simulated time (default: the wall clock when started). */
  from?: Date;
  /** The wall clock, epoch ms (default Date.now): for tests. */
  now?(): number;
}

export interface LiveTraffic {
  /** Stops the traffic and waits for the batch in flight, if any. */
  stop(): Promise<void>;
  /** Events handed to onBatch so far. */
  readonly emitted: number;
}

export function startLiveTraffic(options: LiveTrafficOptions): LiveTraffic {
  if (typeof options?.onBatch !== 'function') throw new TypeError('onBatch must be a function');
  const intervalMs = options.intervalMs ?? 250;
  const speed = options.speed ?? 1;
  const maxBatchSize = options.maxBatchSize ?? 100_000;
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs))
    throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be > 0, got ${speed}`);
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
  }
  resolveGeneratorOptions(options);
  const now = options.now ?? Date.now;
  const wallStart = now();
  const simStart = options.from?.getTime() ?? wallStart;
  const simulator = new TrafficSimulator(new Date(simStart), options);

  let stopped = false;
  let emitted = 0;
  let failure: { error: unknown } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const simNow = simStart + (now() - wallStart) * speed;
    const batch: CloudEvent[] = [];
    while (batch.length < maxBatchSize && simulator.peekTime() <= simNow) batch.push(simulator.nextEvent());
    if (batch.length > 0) {
      try {
        await options.onBatch(batch);
        emitted += batch.length;
      } catch (error) {
        if (options.onError === undefined) {
          failure = { error };
          stopped = true;
          return;
        }
        options.onError(error);
      }
    }
    if (!stopped) timer = setTimeout(run, batch.length >= maxBatchSize ? 0 : intervalMs);
  };
  const run = (): void => {
    inFlight = tick();
  };
  timer = setTimeout(run, 0);

  return {
    get emitted() {
      return emitted;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      if (failure !== undefined) throw failure.error;
    },
  };
}
