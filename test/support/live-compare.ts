import { strict as assert } from 'node:assert';
import {
  isCustomerDimension,
  loadCatalogue,
  type KpiAnswer,
  type NamedWindow,
} from '../../src/kpis/index.js';
import type { RunningPulse } from '../../src/app.js';

/**
 * Every live value (each KPI, window and non-customer breakdown) against the engine's plain query
 * of the same window over the rows; returns how many were compared.
 */
export async function assertLiveMatchesEngine(pulse: RunningPulse, label = ''): Promise<number> {
  let compared = 0;
  for (const kpi of loadCatalogue().kpis) {
    for (const window of ['today', '1h', '24h'] as NamedWindow[]) {
      // Customer attributes are answered on request with differential privacy, never held live.
      for (const by of [undefined, ...kpi.dimensions.filter((d) => !isCustomerDimension(d))]) {
        const live = pulse.live.get(kpi.id, window, by ?? null) as KpiAnswer;
        const name = `${label} ${kpi.id} ${window} ${by ?? ''}`;
        assert.ok(live, `${name} is live`);
        const computed = await pulse.engine.compute(kpi.id, {
          from: live.window.from,
          to: live.window.to,
          by,
        });
        const pick = (a: KpiAnswer) => [
          a.value,
          a.numerator,
          a.denominator,
          a.components,
          a.revenue_share,
          a.as_of,
          a.breakdown,
        ];
        assert.deepEqual(pick(live), pick(computed), name);
        compared += 1;
      }
    }
  }
  return compared;
}
