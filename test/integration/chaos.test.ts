import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { KILL_MODES, runChaos } from '../../chaos/harness.js';

/**
 * The crash-safety harness, short: one SIGKILL of each kind (random moment, right after an ack,
 * during the refresh that follows a commit, while SSE subscribers receive a change, during startup)
 * on a real `pulse start` process under concurrent ingest. `npm run chaos` runs the long version.
 */
describe('crash safety under SIGKILL', () => {
  it('keeps every acknowledged event exactly once and serves the KPIs a full recompute gives', async () => {
    const report = await runChaos({
      rounds: KILL_MODES.length,
      producers: 3,
      batchSize: 200,
      maxDelayMs: 700,
      seed: 3,
      log: () => undefined,
    });
    for (const mode of KILL_MODES) assert.ok(report.killsByMode[mode] >= 1, `no kill ${mode}`);
    assert.ok(report.kills >= KILL_MODES.length);
    assert.ok(report.eventsAcknowledged > 0, 'nothing was acknowledged');
    assert.deepEqual(report.lostSample, [], 'acknowledged events missing from bronze');
    assert.equal(report.lost, 0);
    assert.equal(report.duplicates, 0, 'an event stored twice');
    assert.equal(report.eventsFound, report.eventsAcknowledged);
    // Bronze may hold events committed but never acknowledged (killed before the answer), never fewer.
    assert.ok(report.bronzeRows >= report.eventsAcknowledged);
    assert.ok(
      report.kpiAnswersWithData > 0,
      `the KPI comparison had no data: ${report.answerSample.join(' | ')}`,
    );
    assert.deepEqual(report.mismatchSample, [], 'served KPIs differ from the full recompute');
    assert.equal(report.kpiMismatches, 0);
  });
});
