import { Fragment, useEffect, useMemo, useState } from 'react';
import { api, query, type QualityReport, type RuleVerdict, type Sample, type ScorecardRow } from './api';
import {
  ErrorText,
  formatDateTime,
  formatRate,
  pageHref,
  StatusPill,
  VERDICT_TEXT,
  verdictStatus,
} from './ui';

/** How many business days of pass rates the scorecard shows beside the current verdict. */
const DAYS = 5;

/** The quality scorecard: every rule's verdict and pass rate by day, the KPIs held and why. */
export function QualityPage({ table: initialTable }: { table: string | undefined }) {
  const [table, setTable] = useState(initialTable ?? '');
  const [severity, setSeverity] = useState('');
  const [onlyFailing, setOnlyFailing] = useState(false);
  const [report, setReport] = useState<QualityReport | null>(null);
  const [tables, setTables] = useState<readonly string[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => setTable(initialTable ?? ''), [initialTable]);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    api<QualityReport>(`/v1/quality${query({ table: table || undefined, severity: severity || undefined })}`)
      .then((body) => {
        if (cancelled) return;
        setReport(body);
        if (!table && !severity) setTables([...new Set(body.current.map((r) => r.table))].sort());
      })
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [table, severity]);

  // The table filter's choices come from an unfiltered answer (loaded once when a filter is preset).
  useEffect(() => {
    if (tables.length > 0 || (!table && !severity)) return;
    api<QualityReport>('/v1/quality')
      .then((body) => setTables([...new Set(body.current.map((r) => r.table))].sort()))
      .catch(() => undefined);
  }, [tables.length, table, severity]);

  const days = useMemo(
    () => [...new Set((report?.scorecard ?? []).map((row) => row.day))].sort().reverse().slice(0, DAYS),
    [report],
  );
  const byRuleDay = useMemo(() => {
    const map = new Map<string, ScorecardRow>();
    for (const row of report?.scorecard ?? []) map.set(`${row.rule}|${row.day}`, row);
    return map;
  }, [report]);
  const rules = (report?.current ?? []).filter((rule) => !onlyFailing || rule.status === 'fail');
  const failing = (report?.current ?? []).filter((rule) => rule.status === 'fail');
  const holds = Object.entries(report?.holds ?? {});

  return (
    <article aria-labelledby="quality-title">
      <h1 id="quality-title" className="mb-3 text-2xl font-bold">
        Data quality
      </h1>
      <form className="panel mb-4 flex flex-wrap items-end gap-4 p-4" aria-label="Filter the rules">
        <div>
          <label htmlFor="quality-table" className="mb-1 block font-semibold">
            Table
          </label>
          <select
            id="quality-table"
            className="input"
            value={table}
            onChange={(event) => setTable(event.target.value)}
          >
            <option value="">All tables</option>
            {(tables.includes(table) || !table ? tables : [table, ...tables]).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="quality-severity" className="mb-1 block font-semibold">
            Severity
          </label>
          <select
            id="quality-severity"
            className="input"
            value={severity}
            onChange={(event) => setSeverity(event.target.value)}
          >
            <option value="">Any</option>
            <option value="error">error (holds KPIs)</option>
            <option value="warn">warn (scored and alerted)</option>
          </select>
        </div>
        <label className="choice">
          <input
            type="checkbox"
            checked={onlyFailing}
            onChange={(event) => setOnlyFailing(event.target.checked)}
          />{' '}
          Failing rules only
        </label>
      </form>
      <ErrorText error={error} />
      {report && !report.enabled && <p>Quality rules are disabled in this configuration.</p>}
      {report && (
        <>
          <section className="panel mb-4 p-4" aria-labelledby="holds-title">
            <h2 id="holds-title" className="mb-2 text-lg font-semibold">
              KPIs held
            </h2>
            {holds.length === 0 ? (
              <p data-testid="holds">No KPI is held: every error rule on the tables they read passes.</p>
            ) : (
              <ul data-testid="holds" className="grid gap-2">
                {holds.map(([kpi, hold]) => (
                  <li key={kpi} data-testid={`hold-${kpi}`}>
                    <StatusPill status="critical">Held</StatusPill>{' '}
                    <a href={`#/kpi/${kpi}`}>
                      <strong>{kpi}</strong>
                    </a>{' '}
                    serves its last good value since {formatDateTime(hold.since)}, because{' '}
                    {hold.rules.map((r, i) => (
                      <Fragment key={r.rule}>
                        {i > 0 ? ', ' : ''}
                        <code>{r.rule}</code> fails on {r.failed} row{r.failed === 1 ? '' : 's'} of {r.table}
                      </Fragment>
                    ))}
                    .
                  </li>
                ))}
              </ul>
            )}
          </section>
          <p className="mb-2" role="status" data-testid="quality-summary">
            {report.current.length} rules shown, {failing.length} failing (
            {failing.filter((r) => r.severity === 'error').length} error,{' '}
            {failing.filter((r) => r.severity === 'warn').length} warn),{' '}
            {report.current.filter((r) => r.status === 'not_evaluated').length} not evaluated yet.
          </p>
          <div className="table-scroll mb-6">
            <table className="data-table" data-testid="quality-rules">
              <caption className="caption">
                Quality rules: the current verdict, then the pass rate (rows passing ÷ rows checked) by
                business day
              </caption>
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Table</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last check: failing ÷ checked</th>
                  {days.map((day, i) => (
                    <th scope="col" key={day}>
                      Pass rate {day}
                      {i === 0 ? ' (latest)' : ''}
                    </th>
                  ))}
                  <th scope="col">Failing keys</th>
                </tr>
              </thead>
              <tbody>
                {rules.map((rule) => (
                  <RuleRow key={rule.rule} rule={rule} days={days} byRuleDay={byRuleDay} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </article>
  );
}

function RuleRow({
  rule,
  days,
  byRuleDay,
}: {
  rule: RuleVerdict;
  days: readonly string[];
  byRuleDay: ReadonlyMap<string, ScorecardRow>;
}) {
  const [open, setOpen] = useState(false);
  const latest = days.map((day) => byRuleDay.get(`${rule.rule}|${day}`)).find((row) => row !== undefined);
  const sample: readonly Sample[] =
    rule.failing_sample.length > 0 ? rule.failing_sample : (latest?.failing_sample ?? []);
  return (
    <>
      <tr data-rule={rule.rule}>
        <th scope="row">
          <code>{rule.rule}</code>
        </th>
        <td>
          <a href={pageHref('lineage', { node: rule.table })}>{rule.table}</a>
        </td>
        <td>{rule.kind}</td>
        <td>{rule.severity}</td>
        <td data-testid="rule-status">
          <StatusPill status={verdictStatus(rule)}>{VERDICT_TEXT[rule.status]}</StatusPill>
        </td>
        <td data-testid="rule-last">
          {rule.status === 'not_evaluated' ? '–' : `${rule.failed} ÷ ${rule.checked}`}
          {rule.measure && (
            <span className="muted block text-sm">
              {Object.entries(rule.measure)
                .map(([name, value]) => `${name} ${value === null ? '–' : Number(value.toFixed(2))}`)
                .join(', ')}
            </span>
          )}
        </td>
        {days.map((day) => {
          const row = byRuleDay.get(`${rule.rule}|${day}`);
          return (
            <td key={day} data-testid="rule-day">
              {row ? formatRate(row.pass_rate) : '–'}
            </td>
          );
        })}
        <td>
          {sample.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <button
              type="button"
              className="button nowrap"
              aria-expanded={open}
              onClick={() => setOpen(!open)}
            >
              {open ? 'Hide' : 'Show'} {sample.length} failing key{sample.length === 1 ? '' : 's'}
              <span className="sr-only"> of {rule.rule}</span>
            </button>
          )}
        </td>
      </tr>
      {open && sample.length > 0 && (
        <tr>
          <td colSpan={7 + days.length}>
            <SampleTable rule={rule.rule} sample={sample} />
          </td>
        </tr>
      )}
    </>
  );
}

function SampleTable({ rule, sample }: { rule: string; sample: readonly Sample[] }) {
  const columns = [...new Set(sample.flatMap((row) => Object.keys(row)))];
  return (
    <table className="data-table" data-testid="failing-sample">
      <caption className="caption">Failing keys of {rule} (tokenised identifiers only)</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col" key={column}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sample.map((row, i) => (
          <tr key={i}>
            {columns.map((column) => (
              <td key={column}>{row[column] === null ? 'null' : String(row[column] ?? '–')}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
