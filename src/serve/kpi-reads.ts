import type { Dimension, KpiAnswer, KpiSnapshot, LiveKpis, NamedWindow } from '../kpis/index.js';
import type { Principal } from '../security/index.js';

export interface KpiQuery {
  readonly window?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly by?: string | undefined;
  readonly series?: string | undefined;
  readonly currency?: string | undefined;
}

/** A value the live values hold: a named window, as a total or by one dimension. */
export interface LiveRead {
  readonly window: NamedWindow;
  readonly by: Dimension | null;
}

/**
 * Whether memory holds the answer to a query: a named window (no explicit range, no series) in
 * EUR, for a key that reads every row. A seller's key is always confined to its own rows, which
 * only the engine computes. The query is assumed validated (window and by among the known names).
 */
export function liveReadOf(principal: Principal | null, query: KpiQuery): LiveRead | undefined {
  if (principal?.sellerId != null) return undefined;
  if (query.from !== undefined || query.to !== undefined || query.series !== undefined) return undefined;
  if (query.currency !== undefined && query.currency !== 'EUR') return undefined;
  return { window: (query.window ?? 'today') as NamedWindow, by: (query.by ?? null) as Dimension | null };
}

/** How every API reads KPIs: from the live values when they hold the answer, else computed. */
export async function readKpis(
  snapshot: KpiSnapshot,
  live: LiveKpis,
  principal: Principal | null,
  query: KpiQuery,
): Promise<KpiAnswer[]> {
  const read = liveReadOf(principal, query);
  const answers = read ? live.all(read.window) : [];
  return answers.length > 0 ? answers : snapshot.all(scoped(principal, query));
}

export async function readKpi(
  snapshot: KpiSnapshot,
  live: LiveKpis,
  principal: Principal | null,
  id: string,
  query: KpiQuery,
): Promise<KpiAnswer> {
  const read = liveReadOf(principal, query);
  return (read && live.get(id, read.window, read.by)) ?? snapshot.one(id, scoped(principal, query));
}

/** The query as the engine takes it: a seller's key adds its seller. */
export function scoped(principal: Principal | null, query: KpiQuery): KpiQuery & { seller?: string } {
  const seller = principal?.sellerId ?? undefined;
  return seller === undefined ? query : { ...query, seller };
}
