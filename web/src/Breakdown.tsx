import { useEffect, useState } from 'react';
import { api, query, type KpiAnswer, type RecordsPage } from './api';
import { formatValue } from './format';

type Bar = { key: string | null; value: string | number | null };

/** The value broken down by a dimension, as bars; a bar opens the records under it. */
export function Breakdown({
  id,
  unit,
  dimensions,
  params,
}: {
  id: string;
  unit: string;
  dimensions: readonly string[];
  /** The window; fixed for the life of this component (remount it for another window). */
  params: Record<string, string>;
}) {
  const [dimension, setDimension] = useState(dimensions[0] as string);
  const [bars, setBars] = useState<readonly Bar[]>([]);
  const [selected, setSelected] = useState<Bar | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The range is fixed when the window is picked, so the bars and their records agree.
  const [range] = useState(params);

  useEffect(() => {
    let cancelled = false;
    setSelected(null);
    api<KpiAnswer>(`/v1/kpis/${id}${query({ ...range, by: dimension })}`)
      .then((answer) => {
        if (cancelled) return;
        const sorted = [...(answer.breakdown ?? [])].sort(
          (a, b) => Number(b.value ?? 0) - Number(a.value ?? 0),
        );
        setBars(sorted.slice(0, 20));
        setError(null);
      })
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [id, dimension, range]);

  const max = Math.max(...bars.map((b) => Math.abs(Number(b.value ?? 0))), 0) || 1;
  return (
    <section className="panel mb-6 p-4" aria-labelledby="breakdown-title">
      <div className="mb-3 flex flex-wrap items-center gap-3">
        <h2 id="breakdown-title" className="text-lg font-semibold">
          Breakdown
        </h2>
        <label htmlFor="breakdown-dimension">by</label>
        <select
          id="breakdown-dimension"
          className="input"
          value={dimension}
          onChange={(event) => setDimension(event.target.value)}
        >
          {dimensions.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="muted mb-2 text-sm">Select a bar to see the records under it.</p>
      <ul className="bars" data-testid="breakdown">
        {bars.map((bar) => (
          <li key={bar.key ?? '(none)'}>
            <button
              type="button"
              className="bar"
              aria-pressed={selected?.key === bar.key}
              onClick={() => setSelected(bar)}
              data-testid="breakdown-bar"
            >
              <span className="bar-label">{bar.key ?? '(none)'}</span>
              <span className="bar-track" aria-hidden="true">
                <span
                  className="bar-fill"
                  style={{ width: `${(Math.abs(Number(bar.value ?? 0)) / max) * 100}%` }}
                />
              </span>
              <span className="bar-value">{formatValue(unit, bar.value)}</span>
            </button>
          </li>
        ))}
      </ul>
      {selected && (
        <Records
          id={id}
          params={range}
          dimension={dimension}
          value={selected.key}
          key={`${dimension}:${selected.key}`}
        />
      )}
    </section>
  );
}

const PAGE = 50;

function Records({
  id,
  params,
  dimension,
  value,
}: {
  id: string;
  params: Record<string, string>;
  dimension: string;
  value: string | null;
}) {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<RecordsPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api<RecordsPage>(
      `/v1/kpis/${id}/records${query({ ...params, dimension, value: value ?? undefined, limit: PAGE, offset })}`,
    )
      .then((body) => !cancelled && setPage(body))
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [id, params, dimension, value, offset]);
  const columns =
    page && page.rows.length > 0 ? Object.keys(page.rows[0] as object).filter((c) => c !== 'record_key') : [];
  return (
    <div className="mt-4" aria-live="polite">
      <h3 className="mb-2 font-semibold" id="records-title">
        Records where {dimension} is {value ?? '(none)'}
      </h3>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {page && page.rows.length === 0 && <p>No records.</p>}
      {page && page.rows.length > 0 && (
        <div className="table-scroll">
          <table className="data-table" data-testid="records" aria-labelledby="records-title">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {page.rows.map((row, i) => (
                <tr key={`${String(row.record_key)}:${i}`}>
                  {columns.map((c) => (
                    <td key={c}>{row[c] === null ? '' : String(row[c])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="mt-2 flex gap-2">
        <button
          type="button"
          className="button"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE))}
        >
          Previous page
        </button>
        <button
          type="button"
          className="button"
          disabled={!page || page.next_offset === null}
          onClick={() => page?.next_offset != null && setOffset(page.next_offset)}
        >
          Next page
        </button>
      </div>
    </div>
  );
}
