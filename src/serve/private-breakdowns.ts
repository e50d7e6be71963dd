import { PulseError } from '../errors.js';
import { isCustomerDimension, type KpiAnswer, type KpiSnapshot } from '../kpis/index.js';
import { noiseBreakdown, sensitivityOf, type PrivacyNote } from '../privacy/dp.js';
import type { DpConfig } from '../privacy/dp-config.js';
import type { Principal } from '../security/index.js';
import type { PrivacyBudgetLedger } from '../warehouse/index.js';
import type { KpiQuery } from './kpi-reads.js';

export type PrivateBreakdown = (
  id: string,
  query: KpiQuery & { readonly seller?: string },
  principal: Principal,
) => Promise<KpiAnswer & { privacy: PrivacyNote }>;

/**
 * Answers a KPI broken down by a customer attribute: exact for the configured roles (admin by
 * default: they can read the warehouse anyway), otherwise each cell noised with the Laplace
 * mechanism at ε per query, charged to the caller's daily budget in the warehouse.
 */
export function privateBreakdowns(options: {
  snapshot: KpiSnapshot;
  ledger: PrivacyBudgetLedger;
  config: DpConfig;
}): PrivateBreakdown {
  const { snapshot, ledger, config } = options;
  // Fail at start, not at the first query, if a KPI offers a customer breakdown without a sensitivity.
  for (const kpi of snapshot.engine.catalogue.kpis)
    if (kpi.dimensions.some((dimension) => isCustomerDimension(dimension))) sensitivityOf(kpi);
  return async (id, query, principal) => {
    const exactRole = config.exactRoles.find((role) => principal.roles.includes(role));
    // Computed before the budget is charged: an invalid request costs nothing.
    const answer = await snapshot.one(id, query);
    if (exactRole !== undefined)
      return { ...answer, privacy: { mechanism: 'none', reason: `exact values for the ${exactRole} role` } };
    const kpi = snapshot.engine.catalogue.kpis.find((k) => k.id === answer.id);
    if (!kpi || !answer.breakdown) throw new PulseError('PULSE_ERR_INTERNAL');
    const spend = await ledger.spend(principal.keyId, config.epsilonPerQuery, config.dailyBudgetPerKey);
    if (!spend.granted) {
      throw new PulseError(
        'PULSE_ERR_PRIVACY_BUDGET_EXHAUSTED',
        `This key has spent ε = ${spend.spent} of its daily ${config.dailyBudgetPerKey}; a query costs ${config.epsilonPerQuery}. The budget resets at ${spend.resetsAt.toISOString()}`,
        {
          details: {
            epsilon_spent: spend.spent,
            daily_budget: config.dailyBudgetPerKey,
            epsilon_per_query: config.epsilonPerQuery,
            resets_at: spend.resetsAt.toISOString(),
            retry_after_s: Math.ceil((spend.resetsAt.getTime() - Date.now()) / 1000),
          },
        },
      );
    }
    const noised = noiseBreakdown(kpi, answer.breakdown, config.epsilonPerQuery, config.minCellCount);
    return {
      ...answer,
      breakdown: noised.points,
      privacy: {
        mechanism: 'laplace',
        epsilon: config.epsilonPerQuery,
        sensitivity: noised.sensitivity,
        scale: noised.scale,
        min_cell_count: config.minCellCount,
        remaining_budget: spend.remaining,
        budget_resets_at: spend.resetsAt.toISOString(),
      },
    };
  };
}
