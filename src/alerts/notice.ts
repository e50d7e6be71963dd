import type { Level, Limit, MetricKind } from './rules.js';

/** A dimension value that moved the KPI, e.g. channel = mobile. */
export interface Contributor {
  readonly dimension: string;
  readonly value: string;
  /** The KPI in that slice. */
  readonly kpi_value: string | number | null;
  /** Its share of the breach, in the KPI's unit (see contributors.ts for how it is weighed). */
  readonly impact: number;
}

/** What a channel receives: one alert transition with everything needed to act on it. */
export interface AlertNotice {
  readonly id: string;
  readonly rule_id: string;
  readonly transition: 'firing' | 'escalated' | 'resolved';
  readonly level: Level | null;
  readonly kpi: string;
  readonly kpi_label: string;
  readonly unit: string;
  readonly window: string;
  readonly filter: { readonly dimension: string; readonly value: string } | null;
  /** The KPI as the API serves it (money as exact text). */
  readonly value: string | number | null;
  /**
   * The compared metric: the value, the change against last week for change rules, or the distance
   * from the forecast in σ for forecast rules.
   */
  readonly metric: number | null;
  readonly metric_kind: MetricKind;
  readonly band: { readonly describe: string; readonly limits: readonly Limit[] };
  /** Forecast rules: the forecast of the window and its 80 % band. */
  readonly expected?: { readonly value: number; readonly lower: number; readonly upper: number } | null;
  readonly as_of: string | null;
  readonly lag_ms: number | null;
  readonly at: string;
  readonly contributors: readonly Contributor[];
  readonly definition: string;
}

const ICON: Record<AlertNotice['transition'], string> = {
  firing: 'FIRING',
  escalated: 'ESCALATED',
  resolved: 'RESOLVED',
};

export function formatValue(value: string | number | null, unit: string): string {
  if (value === null) return 'no data';
  if (unit === 'ratio' && typeof value === 'number') return `${(value * 100).toFixed(2)} %`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  return `${value} ${unit}`;
}

export function formatMetric(notice: AlertNotice): string {
  if (notice.metric_kind === 'change' && notice.metric !== null)
    return `${notice.metric >= 0 ? '+' : ''}${(notice.metric * 100).toFixed(1)} % vs last week`;
  return formatValue(notice.value, notice.unit);
}

export function title(notice: AlertNotice): string {
  const scope = notice.filter ? ` (${notice.filter.dimension} = ${notice.filter.value})` : '';
  const level = notice.level ? ` ${notice.level}` : '';
  return `${ICON[notice.transition]}${level}: ${notice.kpi_label}${scope}, ${notice.window}`;
}

function facts(notice: AlertNotice): [string, string][] {
  return [
    ['Value', formatValue(notice.value, notice.unit)],
    ...(notice.metric_kind === 'change' ? ([['Change', formatMetric(notice)]] as [string, string][]) : []),
    ...(notice.expected
      ? ([
          [
            'Forecast',
            `${formatValue(notice.expected.value, notice.unit)} (80 % band ${formatValue(notice.expected.lower, notice.unit)} to ${formatValue(notice.expected.upper, notice.unit)})`,
          ],
        ] as [string, string][])
      : []),
    ['Band', notice.band.describe],
    ['As of', notice.as_of ?? 'no data'],
    ['Rule', notice.rule_id],
    ...(notice.contributors.length > 0
      ? ([
          [
            'Top contributors',
            notice.contributors
              .map((c) => `${c.dimension}=${c.value} (${formatValue(c.kpi_value, notice.unit)})`)
              .join('; '),
          ],
        ] as [string, string][])
      : []),
  ];
}

/** Slack incoming webhook, Block Kit (with `text` as the notification fallback). */
export function slackPayload(notice: AlertNotice): unknown {
  return {
    text: `${title(notice)}: ${formatMetric(notice)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title(notice).slice(0, 150) } },
      {
        type: 'section',
        fields: facts(notice).map(([name, value]) => ({
          type: 'mrkdwn',
          text: `*${name}*\n${escapeSlack(value)}`,
        })),
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: escapeSlack(notice.definition).slice(0, 2000) }],
      },
    ],
  };
}

/** Microsoft Teams incoming webhook / workflow: a message carrying one Adaptive Card of these elements. */
export function adaptiveCardMessage(body: readonly unknown[]): unknown {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  };
}

export function teamsPayload(notice: AlertNotice): unknown {
  return adaptiveCardMessage([
    {
      type: 'TextBlock',
      text: title(notice),
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
      color:
        notice.transition === 'resolved' ? 'Good' : notice.level === 'critical' ? 'Attention' : 'Warning',
    },
    { type: 'FactSet', facts: facts(notice).map(([name, value]) => ({ title: name, value })) },
    { type: 'TextBlock', text: notice.definition, wrap: true, isSubtle: true, size: 'Small' },
  ]);
}

export function plainText(notice: AlertNotice): string {
  return [
    title(notice),
    '',
    ...facts(notice).map(([name, value]) => `${name}: ${value}`),
    '',
    notice.definition,
  ].join('\n');
}

/** Slack reads `<`, `>` and `&` as markup: data from events must not become links or mentions. */
function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
