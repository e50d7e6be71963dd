import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { orderEvent, startTestPulse } from '../support/pulse.js';

function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
}

describe('/metrics', () => {
  it('passes promtool check metrics, after real traffic', async (t) => {
    if (!promtoolAvailable()) {
      // CI installs Debian's prometheus package (.ci/run); there a missing promtool is a failure.
      assert.notEqual(process.env.CI, 'true', 'promtool is missing under CI=true');
      t.skip('promtool is not installed (apt-get install prometheus)');
      return;
    }
    const pulse = await startTestPulse();
    try {
      await pulse.post(
        JSON.stringify([orderEvent({ orderId: 'M-1' }), orderEvent({ orderId: 'M-2', quantity: 0 })]),
        'application/cloudevents-batch+json',
      );
      await pulse.refresh();
      const text = await (await pulse.fetch(`${pulse.url}/metrics`)).text();
      assert.match(text, /pulse_events_ingested_total\{source="http",outcome="accepted"\} 1/);
      assert.match(text, /pulse_events_ingested_total\{source="http",outcome="quarantined"\} 1/);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    } finally {
      await pulse.dispose();
    }
  });
});
