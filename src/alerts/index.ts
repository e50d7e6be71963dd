import type { DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../errors.js';
import type { Catalogue, KpiEngine, LiveKpis } from '../kpis/index.js';
import { openChannel } from './channels.js';
import type { AlertsConfig, ScorecardsConfig } from './config.js';
import { Dispatcher, type DeliveryRecord } from './dispatcher.js';
import { AlertEvaluator, buildRules } from './evaluator.js';
import { AlertLog } from './log.js';
import type { AlertRule } from './rules.js';
import { Scorecards } from './scorecards.js';
import type { Transition } from './state.js';

export { parseAlertsConfig, parseScorecardsConfig, DEFAULT_ALERTS, DEFAULT_SCORECARDS } from './config.js';
export type { AlertsConfig, ScorecardsConfig, ChannelConfig, AlertRuleConfig } from './config.js';
export { buildRules, AlertEvaluator } from './evaluator.js';
export type { RuleState } from './evaluator.js';
export { AlertLog } from './log.js';
export { Dispatcher } from './dispatcher.js';
export { Scorecards, nextRun, localDate, isCalendarDate } from './scorecards.js';
export type { RenderedScorecard } from './scorecards.js';
export { signatureOf, openChannel } from './channels.js';
export type { AlertNotice } from './notice.js';
export { winAnsi } from './scorecard-pdf.js';

/** Alerts and scorecards as one running part of Pulse. */
export interface Alerting {
  readonly evaluator: AlertEvaluator | undefined;
  readonly dispatcher: Dispatcher;
  readonly log: AlertLog;
  readonly scorecards: Scorecards;
  readonly rules: readonly AlertRule[];
  close(): Promise<void>;
}

export function openAlerting(options: {
  alerts: AlertsConfig;
  scorecards: ScorecardsConfig;
  catalogue: Catalogue;
  live: LiveKpis;
  engine: KpiEngine;
  /** A connection of its own: the log's writes never wait on ingest. */
  connection: DuckDBConnection;
  timeZone: string;
  onTransition?: (transition: Transition, rule: AlertRule) => void;
  onDelivery?: (record: DeliveryRecord) => void;
  onError: (error: unknown) => void;
}): Alerting {
  const log = new AlertLog(options.connection, options.onError);
  const dispatcher = new Dispatcher(
    options.alerts.channels.map(openChannel),
    options.alerts.delivery,
    (record) => {
      log.delivery(record);
      options.onDelivery?.(record);
    },
  );
  const problems: string[] = [];
  const rules = buildRules(options.alerts, options.catalogue, problems);
  if (problems.length > 0)
    throw new PulseError('PULSE_ERR_CONFIG', `the alert rules are invalid:\n  - ${problems.join('\n  - ')}`, {
      details: problems,
    });
  const evaluator = options.alerts.enabled
    ? new AlertEvaluator({
        rules,
        catalogue: options.catalogue,
        live: options.live,
        engine: options.engine,
        dispatcher,
        log,
        evaluateEveryMs: options.alerts.evaluateEveryMs,
        timeZone: options.timeZone,
        ...(options.onTransition ? { onTransition: options.onTransition } : {}),
        onError: options.onError,
      })
    : undefined;
  const scorecards = new Scorecards({
    config: options.scorecards,
    engine: options.engine,
    catalogue: options.catalogue,
    timeZone: options.timeZone,
    dispatcher,
    onError: options.onError,
  });
  evaluator?.start();
  scorecards.start();
  return {
    evaluator,
    dispatcher,
    log,
    scorecards,
    rules,
    async close() {
      scorecards.stop();
      await evaluator?.stop();
      await dispatcher.close();
      await log.flushed();
    },
  };
}
