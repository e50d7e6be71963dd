import { useEffect, useRef, useState } from 'react';
import { api, followLive, query, type KpiAnswer, type LiveUpdate, type Me } from './api';
import {
  changeRatio,
  formatChange,
  formatLag,
  formatTime,
  formatValue,
  STATUS_ICON,
  STATUS_TEXT,
  statusOf,
  unitLabel,
} from './format';
import { Sparkline } from './Sparkline';

/** The comparisons (sparklines, last week) follow the feed, at most this often. */
const CONTEXT_REFRESH_MS = 30_000;
const WEEK_MS = 7 * 24 * 3_600_000;

export function Overview({ me }: { me: Me }) {
  const [answers, setAnswers] = useState<Record<string, KpiAnswer>>({});
  const [order, setOrder] = useState<string[]>([]);
  const [lastWeek, setLastWeek] = useState<Record<string, KpiAnswer>>({});
  const [sparks, setSparks] = useState<Record<string, (number | null)[]>>({});
  const [live, setLive] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const contextAt = useRef(0);

  useEffect(() => {
    let cancelled = false;
    const loadContext = async (today: KpiAnswer[]) => {
      contextAt.current = Date.now();
      const from = today[0]?.window.from;
      if (!from) return;
      const now = Date.now();
      const week = await api<{ kpis: KpiAnswer[] }>(
        `/v1/kpis${query({ from: new Date(Date.parse(from) - WEEK_MS).toISOString(), to: new Date(now - WEEK_MS).toISOString() })}`,
      );
      if (!cancelled) setLastWeek(Object.fromEntries(week.kpis.map((a) => [a.id, a])));
      const lines = await Promise.all(
        today.map(async (a) => {
          const answer = await api<KpiAnswer>(
            `/v1/kpis/${a.id}${query({ window: 'today', series: 'hour' })}`,
          );
          return [
            a.id,
            (answer.series ?? []).map((p) => (p.value === null ? null : Number(p.value))),
          ] as const;
        }),
      );
      if (!cancelled) setSparks(Object.fromEntries(lines));
    };
    let latest: KpiAnswer[] = [];
    api<{ kpis: KpiAnswer[] }>('/v1/kpis?window=today')
      .then((body) => {
        if (cancelled) return;
        latest = body.kpis;
        setOrder(body.kpis.map((a) => a.id));
        setAnswers((current) => ({ ...Object.fromEntries(body.kpis.map((a) => [a.id, a])), ...current }));
        return loadContext(body.kpis);
      })
      .catch((e: Error) => setError(e.message));
    const stop = followLive((update: LiveUpdate) => {
      setAnswers((current) => ({ ...current, [update.id]: { ...current[update.id], ...update } }));
      if (latest.length > 0 && Date.now() - contextAt.current > CONTEXT_REFRESH_MS)
        void loadContext(latest).catch(() => undefined);
    }, setLive);
    return () => {
      cancelled = true;
      stop();
    };
  }, [me.key_id]);

  const shown = order.filter((id) => answers[id]);
  return (
    <section aria-labelledby="overview-title">
      <div className="mb-4 flex flex-wrap items-baseline gap-4">
        <h1 id="overview-title" className="text-2xl font-bold">
          Today
        </h1>
        <p className="muted" role="status" data-testid="live-state">
          {live ? '● Live' : '○ Connecting…'}
        </p>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3" aria-label="Key performance indicators">
        {shown.map((id) => (
          <Tile key={id} answer={answers[id] as KpiAnswer} lastWeek={lastWeek[id]} spark={sparks[id] ?? []} />
        ))}
      </ul>
    </section>
  );
}

function Tile({
  answer,
  lastWeek,
  spark,
}: {
  answer: KpiAnswer;
  lastWeek: KpiAnswer | undefined;
  spark: (number | null)[];
}) {
  const change = changeRatio(answer.value, lastWeek?.value);
  const status = statusOf(answer, change);
  const titleId = `tile-title-${answer.id}`;
  return (
    <li className={`tile status-${status}`} data-testid={`tile-${answer.id}`} aria-labelledby={titleId}>
      <div className="flex items-start justify-between gap-2">
        <h2 id={titleId} className="text-lg font-semibold">
          <a href={`#/kpi/${answer.id}`}>{answer.label}</a>
        </h2>
        <span className="status-pill" data-testid="tile-status">
          <span aria-hidden="true">{STATUS_ICON[status]}</span> {STATUS_TEXT[status]}
        </span>
      </div>
      <p className="tile-value">
        <span data-testid="tile-value">{formatValue(answer.unit, answer.value)}</span>{' '}
        <span className="tile-unit">{unitLabel(answer.unit)}</span>
      </p>
      {answer.revenue_share !== undefined && answer.revenue_share !== null && (
        <p className="muted">{(answer.revenue_share * 100).toFixed(1)} % of forecast revenue</p>
      )}
      <Sparkline values={spark} />
      <p data-testid="tile-change">{formatChange(change)}</p>
      <p className="muted text-sm">
        as of {formatTime(answer.as_of)} ({formatLag(answer.lag_ms)}){' '}
        <span className="quality-badge" data-testid="tile-quality">
          quality: {answer.quality}
        </span>
      </p>
    </li>
  );
}
