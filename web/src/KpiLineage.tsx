import { useEffect, useMemo, useState } from 'react';
import { api, query, type ImpactAnswer, type QualityReport, type RuleVerdict } from './api';
import { LineageView, lineageHref } from './LineageGraph';
import { ErrorText, formatDateTime, pageHref, StatusPill, VERDICT_TEXT, verdictStatus } from './ui';

const ORDER: Record<RuleVerdict['status'], number> = { fail: 0, not_evaluated: 1, pass: 2 };

/** The tables a KPI reads: those of the columns upstream of it in the lineage graph. */
export function inputTables(upstream: ImpactAnswer): string[] {
  return [
    ...new Set(
      upstream.nodes
        .filter((n) => n.kind === 'column' && n.dataset !== 'bronze_events')
        .map((n) => n.dataset),
    ),
  ].sort();
}

/**
 * A KPI's lineage (everything upstream of it, drawn and listed) and the quality rules on its
 * input tables with their current verdict: why the KPI may be held.
 */
export function KpiLineage({ id, label }: { id: string; label: string }) {
  const [upstream, setUpstream] = useState<ImpactAnswer | null>(null);
  const [quality, setQuality] = useState<QualityReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    Promise.all([
      api<ImpactAnswer>(`/v1/lineage${query({ node: id, direction: 'upstream' })}`),
      api<QualityReport>('/v1/quality'),
    ])
      .then(([lineage, report]) => {
        if (cancelled) return;
        setUpstream(lineage);
        setQuality(report);
      })
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [id]);

  const hold = quality?.holds[id];
  const { tables, rules } = useMemo(() => {
    if (!upstream || !quality) return { tables: [], rules: [] };
    const tables = new Set([...inputTables(upstream), ...(hold?.rules ?? []).map((r) => r.table)]);
    const rules = quality.current
      .filter((rule) => tables.has(rule.table))
      .sort(
        (a, b) =>
          ORDER[a.status] - ORDER[b.status] ||
          (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
          a.rule.localeCompare(b.rule),
      );
    return { tables: [...tables].sort(), rules };
  }, [upstream, quality, hold]);
  const failing = rules.filter((r) => r.status === 'fail');

  return (
    <>
      <ErrorText error={error} />
      {upstream && (
        <section className="panel mb-6 p-4" aria-labelledby="lineage-title">
          <h2 id="lineage-title" className="mb-2 text-lg font-semibold">
            Lineage: what {label} is computed from
          </h2>
          <p className="mb-2">
            {upstream.contractFields.length} contract fields through {tables.length} tables;{' '}
            <a href={lineageHref(id)}>explore it on the lineage page</a>.
          </p>
          <LineageView
            focus={id}
            upstream={upstream}
            onPick={(node) => (location.hash = lineageHref(node))}
            collapseTables
          />
        </section>
      )}
      {quality && upstream && (
        <section className="panel mb-6 p-4" aria-labelledby="kpi-quality-title">
          <h2 id="kpi-quality-title" className="mb-2 text-lg font-semibold">
            Quality of its inputs
          </h2>
          <p className="mb-2" data-testid="kpi-hold">
            {hold ? (
              <>
                <StatusPill status="critical">Held</StatusPill> since {formatDateTime(hold.since)}: it serves
                its last good value because{' '}
                {hold.rules.map((r) => `${r.rule} fails on ${r.failed} rows`).join(', ')}.
              </>
            ) : (
              <>
                <StatusPill status="ok">Published</StatusPill> no error rule on its inputs fails.
              </>
            )}
          </p>
          <p className="mb-2" data-testid="kpi-rules-summary">
            {rules.length} rules on its {tables.length} input tables, {failing.length} failing.{' '}
            <a href={pageHref('quality')}>All rules on the quality page</a>.
          </p>
          <div className="table-scroll">
            <table className="data-table" data-testid="kpi-rules">
              <caption className="caption">Quality rules on the tables {label} reads, failing first</caption>
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Table</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last check: failing ÷ checked</th>
                </tr>
              </thead>
              <tbody>
                {rules.map((rule) => (
                  <tr key={rule.rule} data-rule={rule.rule}>
                    <th scope="row">
                      <code>{rule.rule}</code>
                    </th>
                    <td>
                      <a href={pageHref('quality', { table: rule.table })}>{rule.table}</a>
                    </td>
                    <td>{rule.severity}</td>
                    <td>
                      <StatusPill status={verdictStatus(rule)}>{VERDICT_TEXT[rule.status]}</StatusPill>
                    </td>
                    <td>{rule.status === 'not_evaluated' ? '–' : `${rule.failed} ÷ ${rule.checked}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
