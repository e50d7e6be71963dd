import type { KpiAnswer, KpiDefinition } from '../kpis/index.js';
import { adaptiveCardMessage, formatValue } from './notice.js';
import { assess, kpiBandRule } from './rules.js';

export type BandStatus = 'ok' | 'warn' | 'critical' | 'no_data';

/** A KPI against its tolerance bands, as the scorecard and the morning status show it. */
export function bandStatus(kpi: KpiDefinition, value: number | null, lastWeek: number | null): BandStatus {
  const result = assess(kpiBandRule(kpi), { value, volume: null, lastWeek });
  if (result.status === 'breach') return result.level;
  return result.status === 'ok' ? 'ok' : 'no_data';
}

export interface StatusLine {
  readonly kpi: string;
  readonly label: string;
  readonly value: string;
  readonly status: BandStatus;
  readonly quality: string;
}

/** The morning status: yesterday's six KPIs against their bands. */
export interface StatusSummary {
  readonly title: string;
  readonly date: string;
  readonly lines: readonly StatusLine[];
}

export function statusLine(
  kpi: KpiDefinition,
  answer: KpiAnswer,
  lastWeek: KpiAnswer | undefined,
): StatusLine {
  const value = answer.value === null ? null : Number(answer.value);
  const before = lastWeek?.value === null || lastWeek === undefined ? null : Number(lastWeek.value);
  return {
    kpi: kpi.id,
    label: kpi.label,
    value: formatValue(answer.value, kpi.unit),
    status: bandStatus(kpi, value, before),
    quality: answer.quality,
  };
}

const MARK: Record<BandStatus, string> = { ok: 'OK', warn: 'WARN', critical: 'CRITICAL', no_data: 'NO DATA' };

export function statusText(summary: StatusSummary): string {
  return [summary.title, '', ...summary.lines.map((l) => `${l.label}: ${l.value} [${MARK[l.status]}]`)].join(
    '\n',
  );
}

export function statusSlack(summary: StatusSummary): unknown {
  return {
    text: summary.title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: summary.title.slice(0, 150) } },
      {
        type: 'section',
        fields: summary.lines.map((l) => ({
          type: 'mrkdwn',
          text: `*${l.label}*\n${l.value} [${MARK[l.status]}]`,
        })),
      },
    ],
  };
}

export function statusTeams(summary: StatusSummary): unknown {
  return adaptiveCardMessage([
    { type: 'TextBlock', text: summary.title, weight: 'Bolder', size: 'Medium', wrap: true },
    {
      type: 'FactSet',
      facts: summary.lines.map((l) => ({ title: l.label, value: `${l.value} [${MARK[l.status]}]` })),
    },
  ]);
}
