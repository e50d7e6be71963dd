import { useEffect, useState } from 'react';
import { api, query, type RunRecord, type SlaBreach } from './api';
import { ErrorText, formatDateTime, formatDuration, StatusPill } from './ui';

const LIMITS = [20, 50, 100] as const;
const TRIGGERS = ['refresh', 'manual', 'retry', 'backfill'] as const;

/** Run history with filters, a run's models on demand, and the SLA breaches. */
export function RunsPage() {
  const [status, setStatus] = useState('');
  const [trigger, setTrigger] = useState('');
  const [limit, setLimit] = useState<number>(20);
  const [runs, setRuns] = useState<readonly RunRecord[] | null>(null);
  const [breaches, setBreaches] = useState<readonly SlaBreach[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    api<{ runs: RunRecord[] }>(
      `/v1/runs${query({ limit, status: status || undefined, trigger: trigger.trim() || undefined })}`,
    )
      .then((body) => !cancelled && setRuns(body.runs))
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [status, trigger, limit]);

  useEffect(() => {
    api<{ breaches: SlaBreach[] }>('/v1/sla-breaches?limit=50')
      .then((body) => setBreaches(body.breaches))
      .catch((e: Error) => setError(e.message));
  }, []);

  return (
    <article aria-labelledby="runs-title">
      <h1 id="runs-title" className="mb-3 text-2xl font-bold">
        Model runs
      </h1>
      <form
        className="panel mb-4 flex flex-wrap items-end gap-4 p-4"
        aria-label="Filter the runs"
        onSubmit={(event) => event.preventDefault()}
      >
        <div>
          <label htmlFor="runs-status" className="mb-1 block font-semibold">
            Status
          </label>
          <select
            id="runs-status"
            className="input"
            value={status}
            onChange={(event) => setStatus(event.target.value)}
          >
            <option value="">Any</option>
            <option value="success">success</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div>
          <label htmlFor="runs-trigger" className="mb-1 block font-semibold">
            Trigger
          </label>
          <input
            id="runs-trigger"
            className="input"
            list="runs-triggers"
            value={trigger}
            onChange={(event) => setTrigger(event.target.value)}
            aria-describedby="runs-trigger-hint"
            spellCheck={false}
          />
          <datalist id="runs-triggers">
            {TRIGGERS.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          <p id="runs-trigger-hint" className="muted text-sm">
            refresh, manual, retry, backfill or a job&apos;s name; empty for all
          </p>
        </div>
        <div>
          <label htmlFor="runs-limit" className="mb-1 block font-semibold">
            Show
          </label>
          <select
            id="runs-limit"
            className="input"
            value={limit}
            onChange={(event) => setLimit(Number(event.target.value))}
          >
            {LIMITS.map((n) => (
              <option key={n} value={n}>
                {n} runs
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorText error={error} />
      {runs && (
        <section className="panel mb-4 p-4" aria-labelledby="history-title">
          <h2 id="history-title" className="mb-2 text-lg font-semibold">
            History
          </h2>
          {runs.length === 0 ? (
            <p data-testid="runs-empty">No run matches these filters.</p>
          ) : (
            <div className="table-scroll">
              <table className="data-table" data-testid="runs">
                <caption className="caption">Model runs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Trigger</th>
                    <th scope="col">Mode</th>
                    <th scope="col">Status</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Rows written</th>
                    <th scope="col">Watermarks</th>
                    <th scope="col">Error</th>
                    <th scope="col">Models</th>
                  </tr>
                </thead>
                <tbody>
                  {runs.map((run) => (
                    <RunRow key={run.id} run={run} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      {breaches && <Breaches breaches={breaches} />}
    </article>
  );
}

function RunRow({ run }: { run: RunRecord }) {
  const [open, setOpen] = useState(false);
  const [detail, setDetail] = useState<RunRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next && !detail)
      api<RunRecord>(`/v1/runs/${encodeURIComponent(run.id)}`)
        .then(setDetail)
        .catch((e: Error) => setError(e.message));
  };
  return (
    <>
      <tr data-run={run.id}>
        <th scope="row">{formatDateTime(run.started_at)}</th>
        <td>{run.trigger ?? '–'}</td>
        <td>{run.mode}</td>
        <td data-testid="run-status">
          <StatusPill status={run.status === 'success' ? 'ok' : 'critical'}>{run.status}</StatusPill>
          {run.retry_of && <span className="muted block text-sm">retries {run.retry_of.slice(0, 8)}</span>}
        </td>
        <td>{formatDuration(run.duration_ms)}</td>
        <td data-testid="run-rows">{run.rows}</td>
        <td>
          {run.watermark_from ?? '–'} → {run.watermark_to ?? '–'}
        </td>
        <td>{run.error ?? '–'}</td>
        <td>
          <button type="button" className="button" aria-expanded={open} onClick={toggle}>
            {open ? 'Hide' : 'Show'} models<span className="sr-only"> of the run of {run.started_at}</span>
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={9}>
            <ErrorText error={error} />
            {!detail && !error && <p role="status">Loading…</p>}
            {detail && (
              <table className="data-table" data-testid="run-models">
                <caption className="caption">
                  Models of run <code>{detail.id}</code>
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Mode</th>
                    <th scope="col">Rows written</th>
                    <th scope="col">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.models.map((model) => (
                    <tr key={model.model}>
                      <th scope="row">{model.model}</th>
                      <td>{model.mode}</td>
                      <td>{model.rows}</td>
                      <td>{formatDuration(model.duration_ms)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

function Breaches({ breaches }: { breaches: readonly SlaBreach[] }) {
  return (
    <section className="panel mb-6 p-4" aria-labelledby="breaches-title">
      <h2 id="breaches-title" className="mb-2 text-lg font-semibold">
        SLA breaches
      </h2>
      {breaches.length === 0 ? (
        <p data-testid="breaches-empty">No run has breached its SLA.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="breaches">
            <caption className="caption">Runs and jobs that took longer than their SLA, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Job</th>
                <th scope="col">Run</th>
                <th scope="col">SLA</th>
                <th scope="col">Took</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {breaches.map((breach) => (
                <tr key={`${breach.breached_at}|${breach.job}`}>
                  <th scope="row">{formatDateTime(breach.breached_at)}</th>
                  <td>{breach.job}</td>
                  <td>
                    <code>{breach.run_id ?? '–'}</code>
                  </td>
                  <td>{formatDuration(breach.sla_ms)}</td>
                  <td>{formatDuration(breach.actual_ms)}</td>
                  <td>{breach.detail ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
