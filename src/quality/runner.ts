import type { DuckDBConnection } from '@duckdb/node-api';
import type { RunResult } from '../models/index.js';
import { queryRows } from '../warehouse/index.js';
import {
  compileCount,
  compileFailing,
  compileVolume,
  failingPredicate,
  robustZ,
  ROW_KINDS,
  type Scope,
} from './compile.js';
import type { QualityAlerts, QualityEvent } from './events.js';
import type { PublishGate } from './gate.js';
import type { QualityRule, RuleSet } from './rules.js';
import { Scorecard } from './scorecard.js';

export type RuleStatus = 'pass' | 'fail' | 'not_evaluated';

/** The latest verdict of one rule. */
export interface RuleState {
  readonly rule: QualityRule;
  readonly status: RuleStatus;
  readonly checked: number;
  readonly failed: number;
  /** Failing keys, at most the sample size (tokenised identifiers only). */
  readonly sample: readonly Record<string, unknown>[];
  readonly at: string;
  /** Volume: the z-score and its inputs; freshness: minutes since the last event. */
  readonly measure?: Record<string, number | null>;
}

export interface QualityPass {
  readonly mode: 'full' | 'incremental';
  readonly evaluated: number;
  readonly failed: readonly string[];
  readonly durationMs: number;
}

export interface QualityRunnerOptions {
  readonly timeZone: string;
  readonly now?: () => Date;
  /** Failing keys kept per failure. */
  readonly sampleSize?: number;
  /** A full pass runs when the last one is older than this (default a day). */
  readonly fullEveryMs?: number;
  /** Where the scorecard is written (default the rules' connection): API readers flush it too. */
  readonly scorecardConnection?: DuckDBConnection;
}

/**
 * Evaluates the quality rules: after each model run on the rows it wrote (an error rule failing
 * so far is checked again on the whole table, so a fix is seen), and on every row once a day or on
 * demand. Freshness reads the newest event time per type from bronze; volume compares the last
 * complete hour with the same hour of the weeks before. Verdicts feed the scorecard, the alerts
 * and the publish gate.
 */
export class QualityRunner {
  readonly #connection: DuckDBConnection;
  readonly #rules: RuleSet;
  readonly #gate: PublishGate;
  readonly #alerts: QualityAlerts;
  readonly #now: () => Date;
  readonly #sampleSize: number;
  readonly #fullEveryMs: number;
  readonly scorecard: Scorecard;
  #states = new Map<string, RuleState>();
  #lastSeen = new Map<string, number>();
  #seenUpTo: bigint | null = null;
  #volumeHour: number | null = null;
  #lastFullAt: number | null = null;
  #fullRequested = false;

  constructor(
    connection: DuckDBConnection,
    rules: RuleSet,
    gate: PublishGate,
    alerts: QualityAlerts,
    options: QualityRunnerOptions,
  ) {
    this.#connection = connection;
    this.#rules = rules;
    this.#gate = gate;
    this.#alerts = alerts;
    this.#now = options.now ?? (() => new Date());
    this.#sampleSize = options.sampleSize ?? 10;
    this.#fullEveryMs = options.fullEveryMs ?? 86_400_000;
    this.scorecard = new Scorecard(options.scorecardConnection ?? connection, options.timeZone);
  }

  get rules(): readonly QualityRule[] {
    return this.#rules.rules;
  }

  get gate(): PublishGate {
    return this.#gate;
  }

  states(): Iterable<RuleState> {
    return this.#states.values();
  }

  /** The next pass checks every row. */
  requestFull(): void {
    this.#fullRequested = true;
  }

  /**
   * After a model run: a full pass when one is due, otherwise the rows the run wrote.
   * `gateDecided` is called once the error rules are evaluated and the gate has moved, before the
   * warn rules run and the alerts and scorecard are written: what gates the KPIs goes first.
   */
  async afterRun(run: RunResult, gateDecided?: () => void): Promise<QualityPass> {
    const now = this.#now();
    if (
      this.#fullRequested ||
      this.#lastFullAt === null ||
      now.getTime() - this.#lastFullAt >= this.#fullEveryMs
    )
      return this.runFull(gateDecided);
    const written = new Map<string, Scope>();
    const lo = run.watermarkFrom ?? -1n;
    for (const model of run.models) {
      if (model.mode === 'full') written.set(model.model, { mode: 'full' });
      else if (model.mode === 'incremental' && model.rows > 0)
        written.set(model.model, { mode: 'incremental', lo });
    }
    return this.#pass(
      'incremental',
      (rule) => {
        // A failing error rule holds KPIs: it is checked on its whole table until it passes, so a fix
        // releases them. Warn rules only ever look at the new rows (a full pass looks at all).
        if (rule.severity === 'error' && this.#states.get(rule.id)?.status === 'fail')
          return { mode: 'full' };
        return written.get(rule.table);
      },
      run.watermarkTo,
      gateDecided,
    );
  }

  /** Every rule on every row. */
  async runFull(gateDecided?: () => void): Promise<QualityPass> {
    this.#fullRequested = false;
    this.#lastFullAt = this.#now().getTime();
    this.#volumeHour = null;
    return this.#pass('full', () => ({ mode: 'full' }), undefined, gateDecided);
  }

  async #pass(
    mode: 'full' | 'incremental',
    scopeOf: (rule: QualityRule) => Scope | undefined,
    seenTo: bigint | undefined,
    gateDecided: (() => void) | undefined,
  ): Promise<QualityPass> {
    const started = performance.now();
    const now = this.#now();
    const rowRules = this.#rules.rules.flatMap((rule) => {
      if (!ROW_KINDS.has(rule.kind)) return [];
      const scope = scopeOf(rule);
      return scope ? [{ rule, scope }] : [];
    });
    const gating = [
      ...(await this.#rowVerdicts(
        rowRules.filter((item) => item.rule.severity === 'error'),
        now,
      )),
      ...(await this.#freshnessVerdicts(now, seenTo)),
      ...(await this.#volumeVerdicts(now)),
    ];
    const events = this.#judge(gating, now);
    gateDecided?.();
    const scoring = await this.#rowVerdicts(
      rowRules.filter((item) => item.rule.severity !== 'error'),
      now,
    );
    events.push(...this.#judge(scoring, now));
    await this.#alerts.raise(events);
    if (mode === 'full' || events.length > 0) await this.scorecard.flush();
    else await this.scorecard.flushIfDue(now);
    const verdicts = [...gating, ...scoring];
    return {
      mode,
      evaluated: verdicts.length,
      failed: verdicts.filter((v) => v.status === 'fail').map((v) => v.rule.id),
      durationMs: performance.now() - started,
    };
  }

  /**
   * All row rules in two statements: the uniqueness counts, and the other rules as one bit mask per
   * row (bit i: the row fails rule i), counted by mask. One aggregate per table instead of one per
   * rule: DuckDB's cost on a refresh's few rows is per aggregate, and this pass gates the KPIs.
   */
  async #rowVerdicts(items: readonly { rule: QualityRule; scope: Scope }[], now: Date): Promise<RuleState[]> {
    if (items.length === 0) return [];
    const checkedOf = new Map<number, number>();
    const failedOf = new Map<number, number>();
    const unique = items.flatMap((item, i) =>
      item.rule.kind === 'unique'
        ? [`SELECT ${i} AS i, checked, failed FROM (${compileCount(item.rule, item.scope)})`]
        : [],
    );
    const groups = maskGroups(items);
    const masked = groups.map(
      (group, g) =>
        `SELECT ${g} AS g, (${group.members
          .map(
            (i, bit) =>
              `CASE WHEN ${failingPredicate((items[i] as { rule: QualityRule }).rule)} THEN ${2n ** BigInt(bit)} ELSE 0 END`,
          )
          .join(' + ')})::BIGINT AS mask FROM ${group.table} t WHERE ${
          group.scope.mode === 'full' ? 'TRUE' : `t._updated_seq > ${group.scope.lo.toString()}`
        }`,
    );
    const uniqueRows =
      unique.length > 0 ? await queryRows(this.#connection, unique.join('\nUNION ALL\n')) : [];
    const maskRows =
      masked.length > 0
        ? await queryRows(
            this.#connection,
            `SELECT g, mask::VARCHAR AS mask, count(*) AS n FROM (${masked.join('\nUNION ALL\n')}) GROUP BY g, mask`,
          )
        : [];
    for (const row of uniqueRows) {
      checkedOf.set(Number(row.i), Number(row.checked));
      failedOf.set(Number(row.i), Number(row.failed));
    }
    for (const group of groups) {
      for (const i of group.members) {
        checkedOf.set(i, 0);
        failedOf.set(i, 0);
      }
    }
    for (const row of maskRows) {
      const group = groups[Number(row.g)] as MaskGroup;
      const n = Number(row.n);
      const mask = BigInt(String(row.mask));
      group.members.forEach((i, bit) => {
        checkedOf.set(i, (checkedOf.get(i) ?? 0) + n);
        if ((mask >> BigInt(bit)) & 1n) failedOf.set(i, (failedOf.get(i) ?? 0) + n);
      });
    }
    const verdicts: RuleState[] = [];
    for (const [i, { rule, scope }] of items.entries()) {
      const checked = checkedOf.get(i) ?? 0;
      const failed = failedOf.get(i) ?? 0;
      let sample: Record<string, unknown>[] = [];
      if (failed > 0) {
        const table = this.#rules.tables.get(rule.table);
        if (table)
          sample = await queryRows(this.#connection, compileFailing(rule, table, scope, this.#sampleSize));
      }
      verdicts.push({
        rule,
        status: failed > 0 ? 'fail' : 'pass',
        checked,
        failed,
        sample,
        at: now.toISOString(),
      });
    }
    return verdicts;
  }

  async #freshnessVerdicts(now: Date, seenTo: bigint | undefined): Promise<RuleState[]> {
    const rules = this.#rules.rules.filter((rule) => rule.kind === 'freshness');
    if (rules.length === 0) return [];
    if (seenTo === undefined || this.#seenUpTo === null || seenTo > this.#seenUpTo) {
      const lo = this.#seenUpTo === null || seenTo === undefined ? -1n : this.#seenUpTo;
      const rows = await queryRows(
        this.#connection,
        `SELECT event_type, epoch_ms(max(ingested_at)) AS newest, max(ingest_seq)::VARCHAR AS seq
         FROM bronze_events WHERE ingest_seq > $lo::BIGINT GROUP BY event_type`,
        { lo: lo.toString() },
      );
      for (const row of rows) {
        const type = String(row.event_type);
        this.#lastSeen.set(type, Math.max(this.#lastSeen.get(type) ?? 0, Number(row.newest)));
        const seq = BigInt(String(row.seq));
        if (this.#seenUpTo === null || seq > this.#seenUpTo) this.#seenUpTo = seq;
      }
      if (this.#seenUpTo === null) this.#seenUpTo = seenTo ?? -1n;
    }
    return rules.map((rule) => {
      const newest = this.#lastSeen.get(rule.eventType ?? '');
      const minutes = newest === undefined ? null : (now.getTime() - newest) / 60_000;
      const failed = minutes !== null && minutes > (rule.afterMinutes ?? Infinity) ? 1 : 0;
      return {
        rule,
        status: minutes === null ? 'not_evaluated' : failed ? 'fail' : 'pass',
        checked: minutes === null ? 0 : 1,
        failed,
        sample: failed
          ? [{ event_type: rule.eventType, last_event_at: new Date(newest as number).toISOString() }]
          : [],
        at: now.toISOString(),
        measure: { minutes_since_last_event: minutes === null ? null : Math.round(minutes * 10) / 10 },
      };
    });
  }

  /** Once per hour (and each full pass): the last complete hour against the same hour of past weeks. */
  async #volumeVerdicts(now: Date): Promise<RuleState[]> {
    const rules = this.#rules.rules.filter((rule) => rule.kind === 'volume');
    const hour = Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 3_600_000;
    if (rules.length === 0 || this.#volumeHour === hour) return [];
    this.#volumeHour = hour;
    const verdicts: RuleState[] = [];
    for (const rule of rules) {
      const table = this.#rules.tables.get(rule.table);
      if (!table) continue;
      const weeks = rule.weeks ?? 4;
      const [first] = await queryRows(
        this.#connection,
        `SELECT epoch_ms(min(${table.time})) AS first FROM ${rule.table}`,
      );
      const rows = await queryRows(this.#connection, compileVolume(rule, table), {
        hour: new Date(hour).toISOString(),
      });
      const counts = new Map(rows.map((row) => [Number(row.hour_ms), Number(row.n)]));
      const firstMs = first?.first === null || first?.first === undefined ? null : Number(first.first);
      const history: number[] = [];
      for (let week = 1; week <= weeks; week++) {
        const at = hour - week * 7 * 86_400_000;
        if (firstMs !== null && firstMs <= at) history.push(counts.get(at) ?? 0);
      }
      const current = counts.get(hour) ?? 0;
      // Without at least half the weeks of history there is nothing to compare with.
      if (history.length < Math.ceil(weeks / 2)) {
        verdicts.push({
          rule,
          status: 'not_evaluated',
          checked: 0,
          failed: 0,
          sample: [],
          at: now.toISOString(),
        });
        continue;
      }
      const { z, median, mad } = robustZ(current, history);
      const anomalous =
        Math.abs(z) > (rule.threshold ?? 3.5) && Math.abs(current - median) >= (rule.minDeviation ?? 5);
      const measure = { hour_ms: hour, count: current, median, mad, z: Number.isFinite(z) ? z : null };
      verdicts.push({
        rule,
        status: anomalous ? 'fail' : 'pass',
        checked: 1,
        failed: anomalous ? 1 : 0,
        sample: anomalous ? [{ hour: new Date(hour).toISOString(), count: current, median, history }] : [],
        at: now.toISOString(),
        measure,
      });
    }
    return verdicts;
  }

  /** Stores the verdicts and moves the publish gate; returns the alert events of the changes. */
  #judge(verdicts: readonly RuleState[], now: Date): Omit<QualityEvent, 'id'>[] {
    const events: Omit<QualityEvent, 'id'>[] = [];
    for (const verdict of verdicts) {
      const before = this.#states.get(verdict.rule.id);
      this.#states.set(verdict.rule.id, verdict);
      this.scorecard.add(verdict, now);
      const base = {
        at: now.toISOString(),
        rule: verdict.rule.id,
        kpi: null,
        table: verdict.rule.table,
        severity: verdict.rule.severity,
      };
      if (verdict.status === 'fail' && before?.status !== 'fail')
        events.push({
          ...base,
          kind: 'rule_failed',
          failed: verdict.failed,
          detail: { sample: verdict.sample },
        });
      else if (verdict.status === 'pass' && before?.status === 'fail')
        events.push({ ...base, kind: 'rule_recovered', failed: 0, detail: null });
    }
    const failing = [...this.#states.values()]
      .filter((state) => state.status === 'fail' && state.rule.severity === 'error')
      .map((state) => ({ rule: state.rule.id, table: state.rule.table, failed: state.failed }));
    const { held, released } = this.#gate.update(failing, now);
    for (const kpi of held)
      events.push({
        at: now.toISOString(),
        kind: 'kpi_held',
        rule: this.#gate.hold(kpi)?.rules[0]?.rule ?? null,
        kpi,
        table: null,
        severity: 'error',
        failed: null,
        detail: { rules: this.#gate.hold(kpi)?.rules },
      });
    for (const kpi of released)
      events.push({
        at: now.toISOString(),
        kind: 'kpi_released',
        rule: null,
        kpi,
        table: null,
        severity: null,
        failed: null,
        detail: null,
      });
    return events;
  }
}

interface MaskGroup {
  readonly table: string;
  readonly scope: Scope;
  /** Indexes into the pass's rules; a member's position is its bit in the mask. */
  readonly members: number[];
}

/** The row rules (but uniqueness) by table and scope, at most 62 to a group: a mask is a BIGINT. */
function maskGroups(items: readonly { rule: QualityRule; scope: Scope }[]): MaskGroup[] {
  const groups: MaskGroup[] = [];
  const open = new Map<string, MaskGroup>();
  items.forEach((item, i) => {
    if (item.rule.kind === 'unique') return;
    const key = `${item.rule.table}|${item.scope.mode === 'full' ? 'full' : item.scope.lo.toString()}`;
    let group = open.get(key);
    if (!group || group.members.length === 62) {
      group = { table: item.rule.table, scope: item.scope, members: [] };
      open.set(key, group);
      groups.push(group);
    }
    group.members.push(i);
  });
  return groups;
}
