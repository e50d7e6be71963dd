import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { mergeRunResults, type RunResult } from '../../src/models/index.js';
import { RefreshLoop } from '../../src/orchestrator/index.js';

const result = (runId: string): RunResult => ({
  runId,
  status: 'success',
  watermarkFrom: null,
  watermarkTo: 1n,
  models: [],
  durationMs: 1,
  setupMs: 0,
  commitMs: 0,
});

describe('RefreshLoop', () => {
  it('retries a failed run after each backoff, then succeeds', async () => {
    const triggers: string[] = [];
    const errors: unknown[] = [];
    const loop = new RefreshLoop({
      run: async (trigger) => {
        triggers.push(trigger);
        if (triggers.length < 3) throw new Error(`attempt ${triggers.length} failed`);
        return result('third');
      },
      drained: async () => undefined,
      debounceMs: 1,
      retryBackoffMs: [5, 10, 20],
      onError: (error) => errors.push(error),
    });
    const started = performance.now();
    const outcome = await loop.refresh();
    assert.equal(outcome?.runId, 'third');
    assert.deepEqual(triggers, ['refresh', 'refresh:retry', 'refresh:retry']);
    assert.ok(performance.now() - started >= 15, 'it waited 5 then 10 ms between attempts');
    assert.deepEqual(errors, [], 'a run that succeeded on retry is not an error');
  });

  it('gives up after the last backoff and reports the error', async () => {
    let attempts = 0;
    const errors: unknown[] = [];
    const loop = new RefreshLoop({
      run: async () => {
        attempts += 1;
        throw new Error('always fails');
      },
      drained: async () => undefined,
      debounceMs: 1,
      retryBackoffMs: [1, 1],
      onError: (error) => errors.push(error),
    });
    await assert.rejects(loop.refresh(), /always fails/);
    assert.equal(attempts, 3);
    assert.equal(errors.length, 1);
  });

  it('reports an SLA breach when a run ends later than the SLA after the commit that asked for it', async () => {
    const breaches: number[] = [];
    const loop = new RefreshLoop({
      run: async () => {
        await new Promise((done) => setTimeout(done, 30));
        return result('slow');
      },
      drained: async () => undefined,
      debounceMs: 1,
      slaMs: 10,
      onSlaBreach: (actualMs) => breaches.push(actualMs),
    });
    loop.request();
    await new Promise((done) => setTimeout(done, 10));
    await loop.refresh();
    assert.equal(breaches.length, 1);
    assert.ok((breaches[0] ?? 0) >= 30);
    await loop.stop();
  });

  it('runs exclusive work between refreshes, never during one', async () => {
    const events: string[] = [];
    const loop = new RefreshLoop({
      run: async () => {
        events.push('run start');
        await new Promise((done) => setTimeout(done, 20));
        events.push('run end');
        return result('r');
      },
      drained: async () => undefined,
      debounceMs: 1,
    });
    loop.request();
    await new Promise((done) => setTimeout(done, 5));
    await loop.exclusive(async () => {
      events.push('exclusive');
    });
    assert.deepEqual(events, ['run start', 'run end', 'exclusive']);
    await loop.stop();
  });

  it('publishes beside the next model run, and merges the runs that commit while it publishes', async () => {
    const events: string[] = [];
    const published: { merged: RunResult; runs: string[] }[] = [];
    let runs = 0;
    let releasePublication = (): void => undefined;
    const loop = new RefreshLoop({
      run: async () => {
        runs += 1;
        events.push(`run ${runs}`);
        return {
          ...result(`r${runs}`),
          watermarkFrom: BigInt(runs * 10),
          watermarkTo: BigInt(runs * 10 + 10),
          models: [{ model: 'fact_order', mode: 'incremental', rows: runs, durationMs: 1 }],
        };
      },
      publish: async (merged, covered) => {
        published.push({ merged, runs: covered.map((run) => run.runId) });
        events.push(`publish ${covered.map((run) => run.runId).join('+')}`);
        // The first publication is slow: runs 2 and 3 commit meanwhile and wait for the next one.
        if (published.length === 1) await new Promise<void>((done) => (releasePublication = done));
      },
      drained: async () => undefined,
      debounceMs: 1,
    });
    loop.request();
    while (published.length === 0) await new Promise((done) => setTimeout(done, 1));
    loop.request();
    while (runs < 2) await new Promise((done) => setTimeout(done, 1));
    loop.request();
    while (runs < 3) await new Promise((done) => setTimeout(done, 1));
    assert.deepEqual(events, ['run 1', 'publish r1', 'run 2', 'run 3'], 'runs 2 and 3 did not wait for it');
    const refreshed = loop.refresh();
    while (runs < 4) await new Promise((done) => setTimeout(done, 1));
    releasePublication();
    await refreshed;
    assert.deepEqual(
      published.map((p) => p.runs),
      [['r1'], ['r2', 'r3', 'r4']],
      'one publication covers every run that committed while the first was under way',
    );
    const merged = published[1]?.merged;
    assert.equal(merged?.runId, 'r4');
    assert.equal(merged?.watermarkFrom, 20n, 'from the first covered run');
    assert.equal(merged?.watermarkTo, 50n, 'to the last');
    assert.deepEqual(merged?.models, [
      { model: 'fact_order', mode: 'incremental', rows: 2 + 3 + 4, durationMs: 3 },
    ]);
    await loop.stop();
  });

  it('merges runs: a full build anywhere makes the model full, a run from scratch makes the span from scratch', () => {
    const run = (
      id: string,
      from: bigint | null,
      mode: 'full' | 'incremental' | 'skipped',
      rows: number,
    ) => ({
      ...result(id),
      status: mode === 'skipped' ? ('skipped' as const) : ('success' as const),
      watermarkFrom: from,
      watermarkTo: 99n,
      models: [{ model: 'silver_orders', mode, rows, durationMs: 2 }],
    });
    const merged = mergeRunResults([
      run('a', 5n, 'skipped', 0),
      run('b', null, 'full', 7),
      run('c', 9n, 'incremental', 1),
    ]);
    assert.equal(merged.watermarkFrom, null);
    assert.equal(merged.status, 'success');
    assert.deepEqual(merged.models, [{ model: 'silver_orders', mode: 'full', rows: 8, durationMs: 6 }]);
    assert.equal(mergeRunResults([run('a', 5n, 'skipped', 0)]).status, 'skipped');
    assert.throws(() => mergeRunResults([]), /no run/);
  });

  it('reports a failed publication and lets the next run publish again', async () => {
    const errors: unknown[] = [];
    let attempts = 0;
    const loop = new RefreshLoop({
      run: async () => result('r'),
      publish: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('live recompute failed');
      },
      drained: async () => undefined,
      debounceMs: 1,
      onError: (error) => errors.push(error),
    });
    await assert.rejects(loop.refresh(), /live recompute failed/);
    assert.equal(errors.length, 1);
    await loop.refresh();
    assert.equal(attempts, 2);
    assert.equal(loop.lastPublishError, undefined);
    await loop.stop();
  });
});
