import type { DuckDBConnection } from '@duckdb/node-api';
import type { RunResult } from '../models/index.js';
import { queryRows } from '../warehouse/index.js';
import { compileVolume, robustZ, ROW_KINDS, type Scope } from './compile.js';
import type { QualityAlerts, QualityEvent } from './events.js';
import type { PublishGate } from './gate.js';
import type { QualityRule, RuleSet } from './rules.js';
import { rowVerdicts, type ScopedRule } from './row-verdicts.js';
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
  /** Where the warn rules run, after the error rules (default the rules' connection). */
  readonly scoringConnection?: DuckDBConnection;
  /**
   * The unique key of each model that upserts (deletes and inserts whole keys): its uniqueness
   * rules then need to look at the new rows only.
   */
  readonly uniqueKeys?: ReadonlyMap<string, readonly string[]>;
  /** A scoring of the warn rules failed (nothing waits for it to report otherwise). */
  readonly onError?: (error: unknown) => void;
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
  readonly #scoringConnection: DuckDBConnection;
  readonly #onError: (error: unknown) => void;
  readonly #uniqueKeys: ReadonlyMap<string, readonly string[]>;
  /** Warn rules waiting for the scoring under way, by rule id. */
  readonly #unscored = new Map<string, ScopedRule>();
  #flushDue = false;
  #scoring: Promise<void> | undefined;

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
    this.#scoringConnection = options.scoringConnection ?? connection;
    this.#onError = options.onError ?? (() => undefined);
    this.#uniqueKeys = options.uniqueKeys ?? new Map();
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
      ...(await rowVerdicts(
        this.#connection,
        this.#rules,
        rowRules.filter((item) => item.rule.severity === 'error'),
        now,
        this.#sampleSize,
        this.#uniqueKeys,
      )),
      ...(await this.#freshnessVerdicts(now, seenTo)),
      ...(await this.#volumeVerdicts(now)),
    ];
    const events = this.#judge(gating, now);
    gateDecided?.();
    await this.#alerts.raise(events);
    const scoring = rowRules.filter((item) => item.rule.severity !== 'error');
    this.#score(scoring, mode === 'full' || events.length > 0);
    // A full pass (on demand, daily) reports every rule; after a refresh the warn rules trail it.
    if (mode === 'full') await this.scored();
    const evaluated =
      mode === 'full'
        ? [...gating.map((v) => v.rule), ...scoring.map((item) => item.rule)]
        : gating.map((v) => v.rule);
    return {
      mode,
      evaluated: evaluated.length,
      failed: evaluated.filter((rule) => this.#states.get(rule.id)?.status === 'fail').map((rule) => rule.id),
      durationMs: performance.now() - started,
    };
  }

  /**
   * Scores the warn rules on their own connection, off the path of the KPIs: nothing waits for
   * them but `scored()`. Passes that end while a scoring runs are scored together next, each rule
   * over the union of their rows (its lowest watermark, or its whole table).
   */
  #score(items: readonly ScopedRule[], flush: boolean): void {
    for (const item of items) {
      const before = this.#unscored.get(item.rule.id)?.scope;
      this.#unscored.set(item.rule.id, {
        rule: item.rule,
        scope: before ? widerScope(before, item.scope) : item.scope,
      });
    }
    if (flush) this.#flushDue = true;
    this.#scoring ??= (async () => {
      while (this.#unscored.size > 0 || this.#flushDue) {
        const batch = [...this.#unscored.values()];
        this.#unscored.clear();
        const flushNow = this.#flushDue;
        this.#flushDue = false;
        try {
          const now = this.#now();
          const events = this.#judge(
            await rowVerdicts(
              this.#scoringConnection,
              this.#rules,
              batch,
              now,
              this.#sampleSize,
              this.#uniqueKeys,
            ),
            now,
          );
          await this.#alerts.raise(events);
          // A warn rule's alert does not force a write: readers of the scorecard flush it first.
          if (flushNow) await this.scorecard.flush();
          else await this.scorecard.flushIfDue(now);
        } catch (error) {
          this.#onError(error);
        }
      }
    })().finally(() => {
      this.#scoring = undefined;
    });
  }

  /** Resolves once the warn rules of every pass so far are scored and the scorecard written. */
  async scored(): Promise<void> {
    while (this.#scoring) await this.#scoring;
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

/** The rows of both scopes: the whole table if either is, else from the lower watermark. */
function widerScope(a: Scope, b: Scope): Scope {
  if (a.mode === 'full') return a;
  if (b.mode === 'full') return b;
  return a.lo <= b.lo ? a : b;
}
