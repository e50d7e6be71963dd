export { loadRules, RULES_FILE, RULE_KINDS, SEVERITIES } from './rules.js';
export type { QualityRule, RuleKind, RuleSeverity, RuleSet, TableSpec } from './rules.js';
export { compileCount, compileFailing, compileVolume, failingPredicate, robustZ } from './compile.js';
export type { Scope } from './compile.js';
export { kpiDependencies, PublishGate } from './gate.js';
export type { HoldingRule, KpiHold } from './gate.js';
export { QualityAlerts } from './events.js';
export type { QualityEvent, QualityEventKind, QualityListener } from './events.js';
export { QualityRunner } from './runner.js';
export type { QualityPass, QualityRunnerOptions, RuleState, RuleStatus } from './runner.js';
export { readScorecard, Scorecard } from './scorecard.js';
export type { ScorecardFilter, ScorecardRow } from './scorecard.js';
export { ensureQualityTables } from './store.js';
export { applyFix, checkFix, parsePath } from './fix.js';
export type { EventFix } from './fix.js';
export { listQuarantine, Remediator } from './quarantine.js';
export type {
  QuarantineEntry,
  QuarantineFilter,
  ReplayOutcome,
  ReplayRequest,
  ReplayResult,
} from './quarantine.js';
