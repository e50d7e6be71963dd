import { PulseError } from '../errors.js';
import {
  DIMENSIONS,
  isCustomerDimension,
  NAMED_WINDOWS,
  type Dimension,
  type LiveListener,
  type LiveValue,
  type NamedWindow,
} from '../kpis/index.js';
import { lagOf } from './live-payload.js';

/** What a subscriber asked for: which KPIs, which window, which breakdown (null: totals only). */
export interface FeedFilter {
  readonly kpis: ReadonlySet<string> | null;
  readonly window: NamedWindow;
  readonly by: Dimension | null;
}

export function parseFeedFilter(query: Record<string, unknown>, knownKpis: readonly string[]): FeedFilter {
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length > 512) {
      throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${name} must be given once, as text`, {
        field: name,
      });
    }
    return value;
  };
  const kpiText = text('kpi');
  const kpis =
    kpiText === undefined
      ? null
      : new Set(
          kpiText
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean),
        );
  const unknown = kpis ? [...kpis].filter((id) => !knownKpis.includes(id)) : [];
  if (unknown.length > 0) {
    throw new PulseError(
      'PULSE_ERR_INVALID_PARAMETER',
      `unknown KPI ${unknown.join(', ')}; known: ${knownKpis.join(', ')}`,
      { field: 'kpi' },
    );
  }
  const window = text('window') ?? 'today';
  if (!(NAMED_WINDOWS as readonly string[]).includes(window)) {
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `window must be one of ${NAMED_WINDOWS.join(', ')}`, {
      field: 'window',
    });
  }
  const by = text('by') ?? null;
  const streamable = DIMENSIONS.filter((dimension) => !isCustomerDimension(dimension));
  if (by !== null && !(streamable as readonly string[]).includes(by)) {
    throw new PulseError(
      'PULSE_ERR_INVALID_PARAMETER',
      isCustomerDimension(by)
        ? `by=${by} is a customer attribute: ask GET /v1/kpis/{id}?by=${by}, answered with differential privacy`
        : `by must be one of ${streamable.join(', ')}`,
      { field: 'by' },
    );
  }
  return { kpis, window: window as NamedWindow, by: by as Dimension | null };
}

export function matches(filter: FeedFilter, value: LiveValue): boolean {
  return (
    value.window === filter.window &&
    value.by === filter.by &&
    (filter.kpis === null || filter.kpis.has(value.id))
  );
}

/** Where a feed's values come from: the shared live snapshot, or a seller's scoped view of it. */
export interface LiveSource {
  subscribe(listener: LiveListener): () => void;
  values(): Iterable<LiveValue>;
}

/** A transport a feed writes to: SSE response or WebSocket. `write` returns false when it is backed up. */
export interface FeedSink {
  write(value: LiveValue, lagMs: number | null): boolean;
  /** Calls back once the sink can take more. */
  onWritable(callback: () => void): void;
  onClose(callback: () => void): void;
}

/**
 * Pushes the live values a subscriber asked for. A slow subscriber never slows the pipeline: while
 * its transport is backed up, newer values replace older pending ones (drop to latest), so its
 * buffer is bounded by the number of values it follows.
 */
export function openFeed(
  live: LiveSource,
  filter: FeedFilter,
  sink: FeedSink,
  now: () => Date = () => new Date(),
): () => void {
  const pending = new Map<string, LiveValue>();
  let blocked = false;
  let closed = false;
  const flush = (): void => {
    if (closed) return;
    for (const [key, value] of pending) {
      pending.delete(key);
      if (!sink.write(value, lagOf(value, now()))) {
        blocked = true;
        sink.onWritable(() => {
          blocked = false;
          flush();
        });
        return;
      }
    }
  };
  const offer = (values: Iterable<LiveValue>): void => {
    for (const value of values) if (matches(filter, value)) pending.set(value.key, value);
    if (!blocked) flush();
  };
  const unsubscribe = live.subscribe(offer);
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    pending.clear();
  };
  sink.onClose(close);
  offer(live.values());
  return close;
}
