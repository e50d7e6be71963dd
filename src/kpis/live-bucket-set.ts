import type { RunResult } from '../models/runner.js';
import type { Dimension, KpiDefinition, Measure } from './catalogue.js';
import { summableByMinute } from './live-bucket-sql.js';
import { MinuteBuckets } from './live-buckets.js';
import { CompactSnapshot } from './live-compact.js';

/** What the live values need of the model runner to keep minute buckets: the runs' changed minutes. */
export interface RunSource {
  trackChangedMinutes(models: Iterable<string>): void;
  onCommit(listener: (result: RunResult) => void): () => void;
}

let sets = 0;

/**
 * The minute buckets of every live measure that may sum them, and the compact tables of snapshot
 * KPIs, made on first use and told, after each committed run of the runner, which minutes of their
 * tables it changed.
 */
export class LiveBucketSet {
  readonly #buckets = new Map<string, MinuteBuckets>();
  readonly #snapshots = new Map<string, CompactSnapshot>();
  /** Tables of one set never meet another's (several Pulses may share a DuckDB instance in tests). */
  readonly #prefix = `b${(sets += 1)}_`;
  readonly unfollow: () => void;

  constructor(runner: RunSource, inputs: Iterable<string>) {
    runner.trackChangedMinutes(inputs);
    this.unfollow = runner.onCommit((result) => this.#note(result));
  }

  /** The buckets of one measure SQL and breakdown set, or undefined when it must be read from rows. */
  of(
    kpi: KpiDefinition,
    side: 'num' | 'den',
    measure: Measure,
    sql: string,
    dims: readonly Dimension[],
  ): MinuteBuckets | undefined {
    if (!summableByMinute(measure, sql)) return undefined;
    const id = `${kpi.id}|${side}|${sql}|${dims.join(',')}`;
    let buckets = this.#buckets.get(id);
    if (!buckets) {
      buckets = new MinuteBuckets(`${this.#prefix}${this.#buckets.size}`, kpi, measure, sql, dims);
      this.#buckets.set(id, buckets);
    }
    return buckets;
  }

  /** The compact tables of a snapshot KPI, or undefined when it declares none. */
  snapshotOf(kpi: KpiDefinition): CompactSnapshot | undefined {
    if (!kpi.snapshot?.compact) return undefined;
    let snapshot = this.#snapshots.get(kpi.id);
    if (!snapshot) {
      snapshot = new CompactSnapshot(kpi, this.#prefix);
      this.#snapshots.set(kpi.id, snapshot);
    }
    return snapshot;
  }

  #note(result: RunResult): void {
    noteRun(result, [
      ...this.#buckets.values(),
      ...[...this.#snapshots.values()].flatMap((snapshot) => snapshot.tables),
    ]);
  }
}

/** Something kept from what the runs change in its input tables. */
export interface RunFollower {
  readonly inputs: readonly string[];
  note(minutes: readonly number[] | 'all'): void;
}

/** Tells each follower the minutes a committed run changed in its inputs, or 'all' after a rebuild. */
export function noteRun(result: RunResult, followers: Iterable<RunFollower>): void {
  for (const follower of followers) {
    for (const input of follower.inputs) {
      const model = result.models.find((m) => m.model === input);
      if (!model || model.mode === 'skipped') continue;
      const minutes = result.changedMinutes.get(input);
      if (model.mode === 'incremental' && minutes) follower.note(minutes);
      else if (model.mode !== 'incremental' || model.rows > 0) follower.note('all');
    }
  }
}
