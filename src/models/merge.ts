import type { ModelRunResult, RunResult } from './runner.js';

const MODE_RANK: Record<ModelRunResult['mode'], number> = { skipped: 0, view: 1, incremental: 2, full: 3 };

/**
 * Several consecutive runs seen as one: from the first run's watermark to the last's, each model's
 * rows added up and its strongest mode kept (a full build anywhere makes the whole span full).
 * What a publication needs to know when it covers the runs that committed while it was busy.
 */
export function mergeRunResults(runs: readonly RunResult[]): RunResult {
  const last = runs.at(-1);
  if (!last) throw new Error('no run to merge');
  if (runs.length === 1) return last;
  const models = new Map<string, ModelRunResult>();
  for (const run of runs) {
    for (const model of run.models) {
      const before = models.get(model.model);
      models.set(
        model.model,
        before
          ? {
              model: model.model,
              mode: MODE_RANK[model.mode] > MODE_RANK[before.mode] ? model.mode : before.mode,
              rows: before.rows + model.rows,
              durationMs: before.durationMs + model.durationMs,
            }
          : model,
      );
    }
  }
  const sum = (pick: (run: RunResult) => number): number => runs.reduce((n, run) => n + pick(run), 0);
  const froms = runs.flatMap((run) => (run.watermarkFrom === null ? [] : [run.watermarkFrom]));
  return {
    runId: last.runId,
    status: runs.some((run) => run.status === 'success') ? 'success' : 'skipped',
    watermarkFrom: runs.some((run) => run.watermarkFrom === null)
      ? null
      : froms.reduce((min, w) => (w < min ? w : min)),
    watermarkTo: last.watermarkTo,
    models: [...models.values()],
    durationMs: sum((run) => run.durationMs),
    setupMs: sum((run) => run.setupMs),
    commitMs: sum((run) => run.commitMs),
  };
}
