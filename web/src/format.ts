import type { Bands, KpiAnswer } from './api';

export type Status = 'ok' | 'warn' | 'critical' | 'unknown';

const money = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Money arrives as exact decimal text ("1234.50"): group it without going through a float sum. */
export function formatMoneyText(text: string): string {
  const negative = text.startsWith('-');
  const [whole = '0', cents = '00'] = text.replace('-', '').split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '−' : ''}${grouped}.${cents.padEnd(2, '0').slice(0, 2)}`;
}

export function formatValue(unit: string, value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (unit === 'EUR') return typeof value === 'string' ? formatMoneyText(value) : money.format(value);
  if (unit === 'ratio') return `${(Number(value) * 100).toFixed(2)} %`;
  if (unit === 'index') return Number(value).toFixed(1);
  return String(Math.round(Number(value)));
}

/** The unit shown beside a value (ratios carry their % in the value). */
export function unitLabel(unit: string): string {
  if (unit === 'ratio') return '';
  if (unit === 'index') return '/ 100';
  return unit;
}

/** Relative change against last week, or null when last week had nothing to compare with. */
export function changeRatio(
  now: string | number | null,
  before: string | number | null | undefined,
): number | null {
  if (now === null || before === null || before === undefined) return null;
  const b = Number(before);
  if (b === 0 || !Number.isFinite(b)) return null;
  return (Number(now) - b) / Math.abs(b);
}

/** The tolerance band a value falls in, as the catalogue defines it (absolute, or change vs last week). */
export function statusOf(answer: Pick<KpiAnswer, 'value' | 'definition'>, change: number | null): Status {
  const definition = answer.definition;
  if (!definition) return 'unknown';
  const bands: Bands = definition.bands;
  const measured =
    bands.basis === 'absolute' ? (answer.value === null ? null : Number(answer.value)) : change;
  if (measured === null) return 'unknown';
  if (definition.direction === 'higher_is_better') {
    if (measured < bands.critical) return 'critical';
    if (measured < bands.warn) return 'warn';
    return 'ok';
  }
  if (measured > bands.critical) return 'critical';
  if (measured > bands.warn) return 'warn';
  return 'ok';
}

export const STATUS_TEXT: Record<Status, string> = {
  ok: 'Within tolerance',
  warn: 'Warning',
  critical: 'Critical',
  unknown: 'No band yet',
};

/** A shape beside the colour, so the status never depends on colour alone. */
export const STATUS_ICON: Record<Status, string> = { ok: '✓', warn: '!', critical: '✕', unknown: '·' };

export function formatChange(change: number | null): string {
  if (change === null) return 'no comparison';
  const sign = change > 0 ? '▲ +' : change < 0 ? '▼ −' : '';
  return `${sign}${Math.abs(change * 100).toFixed(1)} % vs last week`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '–';
  return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatLag(lagMs: number | null): string {
  if (lagMs === null) return 'no events yet';
  return `${(lagMs / 1000).toFixed(1)} s ago`;
}
