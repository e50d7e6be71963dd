import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RunResult } from '../../src/models/index.js';
import { RefreshLoop } from '../../src/orchestrator/index.js';

const result = (runId: string): RunResult => ({
  runId,
  status: 'success',
  watermarkFrom: null,
  watermarkTo: 1n,
  models: [],
  changedMinutes: new Map(),
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

  it('publishes beside the next model run, and keeps the model runs at most one ahead', async () => {
    const events: string[] = [];
    let runs = 0;
    let releasePublication = (): void => undefined;
    let publications = 0;
    const loop = new RefreshLoop({
      run: async () => {
        runs += 1;
        events.push(`run ${runs}`);
        return result(`r${runs}`);
      },
      publish: async (run) => {
        publications += 1;
        events.push(`publish ${run.runId}`);
        // The first publication is slow: run 2 goes on beside it, run 3 waits for it.
        if (publications === 1) await new Promise<void>((done) => (releasePublication = done));
        else await new Promise((done) => setTimeout(done, 5));
        events.push(`published ${run.runId}`);
      },
      drained: async () => undefined,
      debounceMs: 1,
    });
    const settle = () => new Promise((done) => setTimeout(done, 20));
    loop.request();
    await settle();
    loop.request();
    await settle();
    loop.request();
    await settle();
    assert.deepEqual(
      events,
      ['run 1', 'publish r1', 'run 2'],
      'run 2 ran beside the publication, run 3 waits',
    );
    releasePublication();
    await loop.refresh();
    const at = (event: string) => events.indexOf(event);
    assert.ok(at('run 3') > at('published r1'), 'run 3 started once publication 1 had ended');
    assert.deepEqual(
      events.filter((e) => e.startsWith('published')),
      ['published r1', 'published r2', 'published r3', 'published r4'],
      'every run is published once, in order',
    );
    // Never more than one committed run waiting behind the publication under way.
    let ahead = 0;
    for (const event of events) {
      if (event.startsWith('run ')) ahead += 1;
      if (event.startsWith('published')) ahead -= 1;
      assert.ok(ahead <= 2, `${ahead} runs unpublished at "${event}"`);
    }
    await loop.stop();
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
