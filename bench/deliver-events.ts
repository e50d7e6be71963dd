import type { Pipeline } from '../src/app.js';

const BATCH = 10_000;

/**
 * Commits `events` through the pipeline as a source would, 10,000 at a time, then runs the models
 * once over all of them; answers how many were delivered. The history a benchmark starts from.
 */
export async function deliverAndRun(pipeline: Pipeline, events: Iterable<unknown>): Promise<number> {
  let delivered = 0;
  let batch: { kind: 'value'; value: unknown }[] = [];
  for (const value of events) {
    batch.push({ kind: 'value', value });
    if (batch.length === BATCH) {
      await pipeline.deliver(batch, { sourceKind: 'bench' });
      delivered += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) await pipeline.deliver(batch, { sourceKind: 'bench' });
  await pipeline.loop.refresh();
  return delivered + batch.length;
}
