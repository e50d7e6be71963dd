import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { api, canRead, query, type ForecastAnswer, type KpiAnswer, type Me } from './api';
import { formatLag, formatTime, formatValue, unitLabel } from './format';
import { SeriesChart, type ChartData } from './SeriesChart';
import { Breakdown } from './Breakdown';
import { Comments } from './Comments';

// The lineage graph and the quality rules load after the figures, in their own chunk.
const KpiLineage = lazy(() => import('./KpiLineage').then((m) => ({ default: m.KpiLineage })));

const WINDOWS = [
  { id: 'today', label: 'Today' },
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
] as const;
type WindowId = (typeof WINDOWS)[number]['id'];
const GRAINS = ['minute', 'hour', 'day'] as const;
type Grain = (typeof GRAINS)[number];
const DAY_MS = 24 * 3_600_000;
const WEEK_MS = 7 * DAY_MS;

/** The query naming a window: the API's named windows, or an explicit range ending now. */
export function windowParams(choice: WindowId): Record<string, string> {
  if (choice === 'today' || choice === '24h') return { window: choice };
  const days = choice === '7d' ? 7 : 30;
  const now = Date.now();
  return { from: new Date(now - days * DAY_MS).toISOString(), to: new Date(now).toISOString() };
}

function grainsFor(choice: WindowId): readonly Grain[] {
  return choice === '30d' ? ['hour', 'day'] : choice === '7d' ? ['hour', 'day'] : GRAINS;
}

function useTheme(): string {
  const [theme, setTheme] = useState(document.documentElement.dataset.theme ?? 'default');
  useEffect(() => {
    const observer = new MutationObserver(() =>
      setTheme(document.documentElement.dataset.theme ?? 'default'),
    );
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => observer.disconnect();
  }, []);
  return theme;
}

export function KpiPage({ id, me }: { id: string; me: Me }) {
  const [choice, setChoice] = useState<WindowId>('today');
  const [grain, setGrain] = useState<Grain>('hour');
  const [answer, setAnswer] = useState<KpiAnswer | null>(null);
  const [lastWeek, setLastWeek] = useState<KpiAnswer | null>(null);
  const [forecast, setForecast] = useState<ForecastAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const theme = useTheme();

  useEffect(() => {
    if (!grainsFor(choice).includes(grain)) setGrain('hour');
  }, [choice, grain]);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    const params = windowParams(choice);
    (async () => {
      const current = await api<KpiAnswer>(`/v1/kpis/${id}${query({ ...params, series: grain })}`);
      if (cancelled) return;
      setAnswer(current);
      const from = Date.parse(current.window.from) - WEEK_MS;
      const to = Date.parse(current.window.to) - WEEK_MS;
      const [week, ahead] = await Promise.all([
        api<KpiAnswer>(
          `/v1/kpis/${id}${query({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), series: grain })}`,
        ),
        grain === 'minute'
          ? Promise.resolve(null)
          : api<ForecastAnswer>(
              `/v1/kpis/${id}/forecast${query({ grain, horizon: grain === 'hour' ? 24 : 7 })}`,
            ),
      ]);
      if (cancelled) return;
      setLastWeek(week);
      setForecast(ahead);
    })().catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [id, choice, grain]);

  const chart = useMemo<ChartData | null>(
    () => (answer ? alignSeries(answer, lastWeek, forecast) : null),
    [answer, lastWeek, forecast],
  );
  const unit = answer?.unit ?? '';
  const dimensions = (answer?.definition?.dimensions ?? []).filter((d) => !(me.seller_id && d === 'seller'));

  return (
    <article aria-labelledby="kpi-title">
      <p className="mb-2">
        <a href="#/">← Overview</a>
      </p>
      <div className="mb-3 flex flex-wrap items-baseline gap-4">
        <h1 id="kpi-title" className="text-2xl font-bold">
          {answer?.label ?? id}
        </h1>
        {answer && (
          <p className="text-xl" data-testid="kpi-value">
            {formatValue(unit, answer.value)} {unitLabel(unit)}
          </p>
        )}
        {answer?.definition && <Definition answer={answer} />}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="mb-4 flex flex-wrap gap-6">
        <fieldset>
          <legend className="font-semibold">Window</legend>
          <div className="flex flex-wrap gap-2">
            {WINDOWS.map((w) => (
              <label key={w.id} className="choice">
                <input
                  type="radio"
                  name="window"
                  value={w.id}
                  checked={choice === w.id}
                  onChange={() => setChoice(w.id)}
                />{' '}
                {w.label}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend className="font-semibold">Grain</legend>
          <div className="flex flex-wrap gap-2">
            {grainsFor(choice).map((g) => (
              <label key={g} className="choice">
                <input
                  type="radio"
                  name="grain"
                  value={g}
                  checked={grain === g}
                  onChange={() => setGrain(g)}
                />{' '}
                {g}
              </label>
            ))}
          </div>
        </fieldset>
      </div>
      {answer && chart && (
        <section className="panel mb-6 p-4" aria-labelledby="series-title">
          <h2 id="series-title" className="mb-2 text-lg font-semibold">
            Over time, by {grain}
          </h2>
          <p className="muted mb-2 text-sm">
            as of {formatTime(answer.as_of)} ({formatLag(answer.lag_ms)}) · quality: {answer.quality}
            {grain === 'minute' ? ' · no forecast by the minute' : ' · forecast: seasonal naive, 80 % band'}
          </p>
          <SeriesChart
            data={chart}
            theme={theme}
            label={`${answer.label} by ${grain}: this period, the same period last week and the forecast. The table below has the numbers.`}
          />
          <SeriesTable data={chart} unit={unit} />
        </section>
      )}
      {answer && dimensions.length > 0 && (
        <Breakdown key={choice} id={id} unit={unit} dimensions={dimensions} params={windowParams(choice)} />
      )}
      {answer && canRead(me) ? (
        <Suspense
          fallback={
            <p role="status" className="muted">
              Loading the lineage…
            </p>
          }
        >
          <KpiLineage id={id} label={answer.label} />
        </Suspense>
      ) : (
        // A seller key may not read the lineage graph or the rules: the tables the KPI reads only.
        answer?.lineage && (
          <section className="panel mb-6 p-4" aria-labelledby="lineage-title">
            <h2 id="lineage-title" className="mb-2 text-lg font-semibold">
              Reads from
            </h2>
            <ul className="flex flex-wrap gap-2" data-testid="lineage-inputs">
              {answer.lineage.inputs.map((input) => (
                <li key={input} className="tag">
                  {input}
                </li>
              ))}
            </ul>
          </section>
        )
      )}
      {!me.seller_id && <Comments id={id} />}
    </article>
  );
}

function Definition({ answer }: { answer: KpiAnswer }) {
  const definition = answer.definition;
  if (!definition) return null;
  return (
    <span className="definition">
      <button type="button" className="button" aria-describedby="kpi-definition">
        Definition
      </button>
      <span id="kpi-definition" role="tooltip" className="definition-tip">
        {definition.description} Owner: {definition.owner}. Version {answer.definition_version}. Refreshed
        live (replaces a {definition.cadence} cadence).
      </span>
    </span>
  );
}

function alignSeries(
  answer: KpiAnswer,
  lastWeek: KpiAnswer | null,
  forecast: ForecastAnswer | null,
): ChartData {
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  const rows = new Map<
    number,
    { current?: number | null; lastWeek?: number | null; forecast?: number; lower?: number; upper?: number }
  >();
  const at = (ms: number) => {
    let row = rows.get(ms);
    if (!row) rows.set(ms, (row = {}));
    return row;
  };
  for (const p of answer.series ?? []) at(Date.parse(p.ts)).current = num(p.value);
  for (const p of lastWeek?.series ?? []) at(Date.parse(p.ts) + WEEK_MS).lastWeek = num(p.value);
  const end = Date.parse(answer.window.to);
  for (const p of forecast?.points ?? []) {
    const ms = Date.parse(p.ts);
    // The band is drawn ahead of the window only; where it overlaps the past, the past is the truth.
    if (ms < end - 1 && rows.get(ms)?.current !== undefined) continue;
    Object.assign(at(ms), { forecast: p.value, lower: p.lower, upper: p.upper });
  }
  const ts = [...rows.keys()].sort((a, b) => a - b);
  const pick = (key: 'current' | 'lastWeek' | 'forecast' | 'lower' | 'upper') =>
    ts.map((t) => rows.get(t)?.[key] ?? null);
  return {
    ts: ts.map((t) => t / 1000),
    current: pick('current'),
    lastWeek: pick('lastWeek'),
    forecast: pick('forecast'),
    lower: pick('lower'),
    upper: pick('upper'),
  };
}

function SeriesTable({ data, unit }: { data: ChartData; unit: string }) {
  const fmt = (v: number | null | undefined) =>
    v === null || v === undefined ? '–' : formatValue(unit, unit === 'EUR' ? v : v);
  return (
    <details className="mt-3">
      <summary>Data table</summary>
      <div className="table-scroll">
        <table className="data-table" data-testid="series-table">
          <caption className="sr-only">The series as numbers</caption>
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              <th scope="col">This period</th>
              <th scope="col">Last week</th>
              <th scope="col">Forecast (80 % band)</th>
            </tr>
          </thead>
          <tbody>
            {data.ts.map((t, i) => (
              <tr key={t}>
                <th scope="row">{new Date(t * 1000).toLocaleString('en-GB')}</th>
                <td>{fmt(data.current[i])}</td>
                <td>{fmt(data.lastWeek[i])}</td>
                <td>
                  {data.forecast[i] === null || data.forecast[i] === undefined
                    ? '–'
                    : `${fmt(data.forecast[i])} (${fmt(data.lower[i])} – ${fmt(data.upper[i])})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
