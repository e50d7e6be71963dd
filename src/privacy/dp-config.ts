/** How customer-behaviour breakdowns are protected by differential privacy. */
export interface DpConfig {
  /** ε spent by one noised answer (noise scale b = sensitivity / ε). */
  readonly epsilonPerQuery: number;
  /** Total ε one key (or token subject) may spend per UTC day. */
  readonly dailyBudgetPerKey: number;
  /** Cells whose true count is below this are suppressed (null with a reason), never noised. */
  readonly minCellCount: number;
  /** Roles answered with exact values (and spending no budget). */
  readonly exactRoles: readonly ('admin' | 'read')[];
}

export const DEFAULT_DP: DpConfig = {
  epsilonPerQuery: 0.5,
  dailyBudgetPerKey: 5,
  minCellCount: 10,
  exactRoles: ['admin'],
};
