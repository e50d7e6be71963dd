import {
  liveKey,
  type KpiSnapshot,
  type LiveKpis,
  type LiveListener,
  type LiveValue,
} from '../kpis/index.js';
import type { FeedFilter, LiveSource } from './live-feed.js';

/**
 * A marketplace seller's live feed: after each refresh of the shared snapshot, the KPIs the seller
 * follows are computed again confined to its rows, and only what changed is passed on.
 */
export function sellerLiveSource(
  live: LiveKpis,
  snapshot: KpiSnapshot,
  sellerId: string,
  filter: FeedFilter,
): LiveSource {
  const ids = snapshot.engine.catalogue.kpis
    .filter((kpi) => kpi.dimensions.includes('seller') && (filter.kpis === null || filter.kpis.has(kpi.id)))
    .filter((kpi) => filter.by === null || kpi.dimensions.includes(filter.by))
    .map((kpi) => kpi.id);
  let current = new Map<string, LiveValue>();
  let running: Promise<void> | undefined;
  let again = false;
  const listeners = new Set<LiveListener>();
  const compute = async (): Promise<void> => {
    const next = new Map<string, LiveValue>();
    for (const id of ids) {
      const answer = await snapshot.one(id, {
        window: filter.window,
        by: filter.by ?? undefined,
        seller: sellerId,
      });
      const newest = answer.lag_ms === null ? null : Date.now() - answer.lag_ms;
      const key = liveKey(id, filter.window, filter.by);
      next.set(key, { key, id, window: filter.window, by: filter.by, answer, newestIngestMs: newest });
    }
    const changed = [...next.values()].filter((value) => {
      const before = current.get(value.key);
      return (
        !before ||
        JSON.stringify({ ...before.answer, lag_ms: 0, window: 0 }) !==
          JSON.stringify({ ...value.answer, lag_ms: 0, window: 0 })
      );
    });
    current = next;
    if (changed.length > 0) for (const listener of listeners) listener(changed);
  };
  const refresh = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = compute()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  return {
    values: () => current.values(),
    subscribe(listener) {
      listeners.add(listener);
      const unsubscribe = live.subscribe(() => refresh());
      refresh();
      return () => {
        listeners.delete(listener);
        unsubscribe();
      };
    },
  };
}
