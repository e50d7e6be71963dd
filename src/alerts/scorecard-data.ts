import type { Catalogue, KpiAnswer, KpiDefinition, KpiEngine } from '../kpis/index.js';
import { startOfBusinessDay } from '../kpis/index.js';
import { bandStatus, type BandStatus } from './status.js';

const DAY_MS = 24 * 3_600_000;
const TREND_DAYS = 7;

export interface ScorecardKpi {
  readonly kpi: KpiDefinition;
  /** `region` when the KPI breaks down by country; `company` when it cannot (it is shown company-wide). */
  readonly scope: 'region' | 'company';
  readonly value: string | number | null;
  readonly lastWeek: string | number | null;
  readonly status: BandStatus;
  readonly quality: string;
  readonly asOf: string | null;
  /** The value on each of the seven business days ending on the scorecard's date. */
  readonly trend: readonly { readonly date: string; readonly value: number | null }[];
}

export interface ScorecardData {
  readonly region: string;
  readonly date: string;
  readonly timeZone: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly kpis: readonly ScorecardKpi[];
}

/** The business day `date` (YYYY-MM-DD) in `timeZone`, as a UTC window. */
export function businessDay(date: string, timeZone: string): { from: Date; to: Date } {
  const noon = (d: string): Date => new Date(`${d}T12:00:00Z`);
  const next = new Date(noon(date).getTime() + DAY_MS).toISOString().slice(0, 10);
  return { from: startOfBusinessDay(noon(date), timeZone), to: startOfBusinessDay(noon(next), timeZone) };
}

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The numbers of one region's scorecard, computed by the same engine and catalogue that answer
 * the API, so the PDF and the API cannot disagree.
 */
export async function scorecardData(
  engine: KpiEngine,
  catalogue: Catalogue,
  region: string,
  date: string,
  timeZone: string,
): Promise<ScorecardData> {
  const day = businessDay(date, timeZone);
  const valueOn = async (
    kpi: KpiDefinition,
    d: string,
  ): Promise<{ answer: KpiAnswer; value: string | number | null }> => {
    const window = businessDay(d, timeZone);
    const request = { from: window.from.toISOString(), to: window.to.toISOString() };
    if (!kpi.dimensions.includes('country')) {
      const answer = await engine.compute(kpi.id, request);
      return { answer, value: answer.value };
    }
    const answer = await engine.compute(kpi.id, { ...request, by: 'country' });
    const point = answer.breakdown?.find((p) => p.key === region);
    // A region with no sales that day has a net revenue of zero, but no rate at all.
    return { answer, value: point ? point.value : kpi.kind === 'money' ? '0.00' : null };
  };
  const kpis: ScorecardKpi[] = [];
  for (const kpi of catalogue.kpis) {
    const today = await valueOn(kpi, date);
    const lastWeek = await valueOn(kpi, shiftDate(date, -7));
    const trend = [];
    for (let i = TREND_DAYS - 1; i >= 0; i--) {
      const d = shiftDate(date, -i);
      const { value } = i === 0 ? today : await valueOn(kpi, d);
      trend.push({ date: d, value: value === null ? null : Number(value) });
    }
    kpis.push({
      kpi,
      scope: kpi.dimensions.includes('country') ? 'region' : 'company',
      value: today.value,
      lastWeek: lastWeek.value,
      status: bandStatus(
        kpi,
        today.value === null ? null : Number(today.value),
        lastWeek.value === null ? null : Number(lastWeek.value),
      ),
      quality: today.answer.quality,
      asOf: today.answer.as_of,
      trend,
    });
  }
  return {
    region,
    date,
    timeZone,
    window: { from: day.from.toISOString(), to: day.to.toISOString() },
    kpis,
  };
}
