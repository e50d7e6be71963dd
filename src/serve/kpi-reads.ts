import type { Dimension, KpiAnswer, KpiSnapshot, LiveKpis, NamedWindow } from '../kpis/index.js';
import type { Principal } from '../security/index.js';

export interface KpiQuery {
  readonly window?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly by?: string | undefined;
  readonly series?: string | undefined;
}

/**
 * How every API (REST and GraphQL) reads KPIs: named windows come from the live values in memory,
 * explicit ranges and series are computed, and a seller's key is always confined to its own rows.
 */
export async function readKpis(
  snapshot: KpiSnapshot,
  live: LiveKpis,
  principal: Principal | null,
  query: KpiQuery,
): Promise<KpiAnswer[]> {
  const seller = principal?.sellerId ?? undefined;
  if (seller !== undefined) return snapshot.all({ ...query, seller });
  if (query.from === undefined && query.to === undefined) {
    const answers = live.all((query.window ?? 'today') as NamedWindow);
    if (answers.length > 0) return answers;
  }
  return snapshot.all(query);
}

export async function readKpi(
  snapshot: KpiSnapshot,
  live: LiveKpis,
  principal: Principal | null,
  id: string,
  query: KpiQuery,
): Promise<KpiAnswer> {
  const seller = principal?.sellerId ?? undefined;
  if (seller !== undefined) return snapshot.one(id, { ...query, seller });
  if (query.from === undefined && query.to === undefined && query.series === undefined) {
    const answer = live.get(
      id,
      (query.window ?? 'today') as NamedWindow,
      (query.by ?? null) as Dimension | null,
    );
    if (answer) return answer;
  }
  return snapshot.one(id, query);
}
