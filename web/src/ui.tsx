import type { ReactNode } from 'react';
import type { RuleVerdict } from './api';
import { STATUS_ICON, type Status } from './format';

/** A rule's verdict as a status: a failing error rule is critical (it holds KPIs), a warn rule a warning. */
export function verdictStatus(rule: Pick<RuleVerdict, 'status' | 'severity'>): Status {
  if (rule.status === 'pass') return 'ok';
  if (rule.status === 'fail') return rule.severity === 'error' ? 'critical' : 'warn';
  return 'unknown';
}

export const VERDICT_TEXT: Record<RuleVerdict['status'], string> = {
  pass: 'Pass',
  fail: 'Fail',
  not_evaluated: 'Not evaluated',
};

/** A status in words and a symbol, coloured as a second signal only. */
export function StatusPill({ status, children }: { status: Status; children: ReactNode }) {
  return (
    <span className={`status-${status}`}>
      <span className="status-pill">
        <span aria-hidden="true">{STATUS_ICON[status]}</span> {children}
      </span>
    </span>
  );
}

/** What a page says when the key may not read it: a sentence, not an error dump. */
export function Restricted({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel max-w-2xl p-6" aria-labelledby="restricted-title" data-testid="restricted">
      <h1 id="restricted-title" className="mb-2 text-2xl font-bold">
        {title}
      </h1>
      <p>{children}</p>
    </section>
  );
}

export function ErrorText({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p role="alert" className="error mb-3">
      {error}
    </p>
  );
}

/** A date and time in UTC, to the second, the same for every reader of a shared link. */
export function formatDateTime(iso: string | null): string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 1_000 ? `${ms.toFixed(1)} ms` : `${(ms / 1_000).toFixed(2)} s`;
}

/** A pass rate as a percentage with one decimal; null means no row was checked. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return 'no rows';
  return `${(rate * 100).toFixed(1)} %`;
}

/** A hash link to a page with query parameters. */
export function pageHref(page: string, params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return `#/${page}${text ? `?${text}` : ''}`;
}
