import { useCallback, useEffect, useState } from 'react';
import {
  api,
  ApiError,
  isAdmin,
  query,
  type EventFix,
  type Me,
  type QuarantineEntry,
  type QuarantinePage as Page,
  type ReplayResult,
} from './api';
import type { Status } from './format';
import { ErrorText, formatDateTime, Restricted, StatusPill } from './ui';

const PAGE_SIZES = [25, 50, 100] as const;

interface Filter {
  type: string;
  rule: string;
  field: string;
  status: string;
}
const NO_FILTER: Filter = { type: '', rule: '', field: '', status: '' };

const ENTRY_STATUS: Record<string, Status> = { open: 'warn', remediated: 'ok', duplicate: 'unknown' };
const OUTCOME_STATUS: Record<string, Status> = { accepted: 'ok', duplicate: 'unknown', failed: 'critical' };

/** Quarantined events: browse with filters, page by id, select and replay (admins only). */
export function QuarantinePage({ me }: { me: Me }) {
  if (!isAdmin(me)) return <AdminOnly me={me} />;
  return <Quarantine me={me} />;
}

function AdminOnly({ me }: { me: Me }) {
  return (
    <Restricted title="Quarantine: admin only">
      Quarantined events and their replay are for admin keys; this key&apos;s roles are{' '}
      <span data-testid="restricted-roles">{me.roles.join(', ') || 'none'}</span>. The{' '}
      <a href="#/quality">quality scorecard</a> shows what fails without the events themselves; ask an admin
      to replay events.
    </Restricted>
  );
}

function Quarantine({ me }: { me: Me }) {
  const [draft, setDraft] = useState<Filter>(NO_FILTER);
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [limit, setLimit] = useState<number>(25);
  // Cursors of the pages before this one, and this one's (undefined: the first page).
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  // The page shown, with its number: the heading changes with the entries, not before them.
  const [page, setPage] = useState<(Page & { number: number }) | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [fixPath, setFixPath] = useState('');
  const [fixValue, setFixValue] = useState('');
  const [removePath, setRemovePath] = useState('');
  const [result, setResult] = useState<ReplayResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [forbidden, setForbidden] = useState(false);
  const after = cursors[cursors.length - 1];
  const requested = cursors.length;

  const load = useCallback(async () => {
    const body = await api<Page>(
      `/v1/quarantine${query({
        type: filter.type || undefined,
        rule: filter.rule || undefined,
        field: filter.field || undefined,
        status: filter.status || undefined,
        limit,
        after,
      })}`,
    );
    setPage({ ...body, number: requested });
  }, [filter, limit, after, requested]);

  useEffect(() => {
    setError(null);
    load().catch((e: Error) => {
      if (e instanceof ApiError && e.status === 403) setForbidden(true);
      else setError(e.message);
    });
  }, [load]);

  if (forbidden) return <AdminOnly me={me} />;

  const entries = page?.entries ?? [];
  const open = entries.filter((e) => e.status === 'open');
  const firstSelected = entries.find((e) => selected.has(e.id));

  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      const fix: { set?: Record<string, unknown>; remove?: string[] } = {};
      if (fixPath.trim()) {
        let value: unknown;
        try {
          value = JSON.parse(fixValue);
        } catch {
          // Not JSON: the text itself (a string value).
          value = fixValue;
        }
        fix.set = { [fixPath.trim()]: value };
      }
      if (removePath.trim()) fix.remove = [removePath.trim()];
      const body: { ids: number[]; fix?: EventFix } = { ids: [...selected].sort((a, b) => a - b) };
      if (fix.set || fix.remove) body.fix = fix;
      const outcome = await api<ReplayResult>('/v1/quarantine/replay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      setResult(outcome);
      setSelected(new Set());
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article aria-labelledby="quarantine-title">
      <h1 id="quarantine-title" className="mb-3 text-2xl font-bold">
        Quarantine
      </h1>
      <form
        className="panel mb-4 flex flex-wrap items-end gap-4 p-4"
        aria-label="Filter the quarantine"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(draft);
          setCursors([undefined]);
          setSelected(new Set());
        }}
      >
        {(
          [
            ['type', 'Event type', 'order.placed'],
            ['rule', 'Rule', 'minimum'],
            ['field', 'Field', 'data.lines[0].quantity'],
          ] as const
        ).map(([name, label, example]) => (
          <div key={name}>
            <label htmlFor={`quarantine-${name}`} className="mb-1 block font-semibold">
              {label}
            </label>
            <input
              id={`quarantine-${name}`}
              className="input"
              value={draft[name]}
              placeholder={`e.g. ${example}`}
              onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
              spellCheck={false}
            />
          </div>
        ))}
        <div>
          <label htmlFor="quarantine-status" className="mb-1 block font-semibold">
            Status
          </label>
          <select
            id="quarantine-status"
            className="input"
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.target.value })}
          >
            <option value="">Any</option>
            <option value="open">open</option>
            <option value="remediated">remediated</option>
            <option value="duplicate">duplicate</option>
          </select>
        </div>
        <div>
          <label htmlFor="quarantine-limit" className="mb-1 block font-semibold">
            Per page
          </label>
          <select
            id="quarantine-limit"
            className="input"
            value={limit}
            onChange={(event) => {
              setLimit(Number(event.target.value));
              setCursors([undefined]);
            }}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button-primary">
          Apply filters
        </button>
      </form>
      <ErrorText error={error} />
      {result && <ReplayOutcome result={result} />}
      {page && (
        <section className="panel mb-4 p-4" aria-labelledby="entries-title">
          <h2 id="entries-title" className="mb-2 text-lg font-semibold">
            Entries, page {page.number}
          </h2>
          {entries.length === 0 ? (
            <p data-testid="quarantine-empty">No quarantined event matches these filters.</p>
          ) : (
            <div className="table-scroll">
              <table className="data-table" data-testid="quarantine-entries">
                <caption className="caption">
                  Quarantined events, oldest first: the rule and field that failed, and their status
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Select</th>
                    <th scope="col">Id</th>
                    <th scope="col">Received</th>
                    <th scope="col">Type</th>
                    <th scope="col">Event id</th>
                    <th scope="col">Rule</th>
                    <th scope="col">Field</th>
                    <th scope="col">Message</th>
                    <th scope="col">Status</th>
                    <th scope="col">Payload</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((entry) => (
                    <EntryRow
                      key={entry.id}
                      entry={entry}
                      selected={selected.has(entry.id)}
                      onToggle={(on) => {
                        const next = new Set(selected);
                        if (on) next.add(entry.id);
                        else next.delete(entry.id);
                        setSelected(next);
                      }}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav aria-label="Quarantine pages" className="mt-3 flex gap-3">
            <button
              type="button"
              className="button"
              disabled={cursors.length <= 1}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              Previous page
            </button>
            <button
              type="button"
              className="button"
              disabled={!page.next_after}
              onClick={() => page.next_after && setCursors([...cursors, page.next_after])}
            >
              Next page
            </button>
          </nav>
        </section>
      )}
      {page && open.length > 0 && (
        <form
          className="panel mb-6 p-4"
          aria-labelledby="replay-title"
          onSubmit={(event) => {
            event.preventDefault();
            void replay();
          }}
        >
          <h2 id="replay-title" className="mb-2 text-lg font-semibold">
            Replay the selected entries
          </h2>
          <p className="mb-3">
            Each selected open entry is corrected (optionally) and sent again through the contracts and
            ingest; a passing one is marked remediated.{' '}
            <span data-testid="selected-count">{selected.size}</span> selected.
          </p>
          <fieldset className="mb-3 flex flex-wrap items-end gap-4">
            <legend className="font-semibold">Correction (optional)</legend>
            <div>
              <label htmlFor="fix-path" className="mb-1 block">
                Set field
              </label>
              <input
                id="fix-path"
                className="input"
                value={fixPath}
                placeholder={firstSelected?.field ?? 'data.lines[0].quantity'}
                onChange={(event) => setFixPath(event.target.value)}
                aria-describedby="fix-hint"
                spellCheck={false}
              />
            </div>
            <div>
              <label htmlFor="fix-value" className="mb-1 block">
                to the value (JSON)
              </label>
              <input
                id="fix-value"
                className="input"
                value={fixValue}
                onChange={(event) => setFixValue(event.target.value)}
                aria-describedby="fix-hint"
                spellCheck={false}
              />
            </div>
            <div>
              <label htmlFor="fix-remove" className="mb-1 block">
                Remove field
              </label>
              <input
                id="fix-remove"
                className="input"
                value={removePath}
                onChange={(event) => setRemovePath(event.target.value)}
                aria-describedby="fix-hint"
                spellCheck={false}
              />
            </div>
          </fieldset>
          <p id="fix-hint" className="muted mb-3 text-sm">
            Paths start at the event: <code>data.lines[0].quantity</code>; <code>[*]</code> means every item.
            A value that is not JSON is taken as text.
          </p>
          <button type="submit" className="button button-primary" disabled={busy || selected.size === 0}>
            Replay {selected.size} selected
          </button>
        </form>
      )}
    </article>
  );
}

function EntryRow({
  entry,
  selected,
  onToggle,
}: {
  entry: QuarantineEntry;
  selected: boolean;
  onToggle: (on: boolean) => void;
}) {
  return (
    <tr data-entry={entry.id}>
      <td>
        <input
          type="checkbox"
          checked={selected}
          disabled={entry.status !== 'open'}
          aria-label={`Select entry ${entry.id}${entry.status === 'open' ? '' : ` (${entry.status})`}`}
          onChange={(event) => onToggle(event.target.checked)}
        />
      </td>
      <th scope="row">{entry.id}</th>
      <td>{formatDateTime(entry.received_at)}</td>
      <td>{entry.event_type ?? '–'}</td>
      <td>
        <code>{entry.event_id ?? '–'}</code>
      </td>
      <td>{entry.rule}</td>
      <td>
        <code>{entry.field}</code>
      </td>
      <td>{entry.message}</td>
      <td data-testid="entry-status">
        <StatusPill status={ENTRY_STATUS[entry.status] ?? 'unknown'}>{entry.status}</StatusPill>
        {entry.updated_by && <span className="muted block text-sm">by {entry.updated_by}</span>}
      </td>
      <td>
        <details>
          <summary>
            Show<span className="sr-only"> the payload of entry {entry.id}</span>
          </summary>
          <pre className="payload">{JSON.stringify(entry.payload, null, 2)}</pre>
        </details>
      </td>
    </tr>
  );
}

function ReplayOutcome({ result }: { result: ReplayResult }) {
  return (
    <section className="panel mb-4 p-4" aria-labelledby="outcome-title" data-testid="replay-outcome">
      <h2 id="outcome-title" className="mb-2 text-lg font-semibold">
        Replay outcome
      </h2>
      <p role="status" className="mb-2" data-testid="replay-summary">
        {result.accepted} accepted, {result.duplicates} duplicate{result.duplicates === 1 ? '' : 's'},{' '}
        {result.failed} failed.
      </p>
      <table className="data-table">
        <caption className="caption">Each replayed entry</caption>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Event id</th>
            <th scope="col">Outcome</th>
            <th scope="col">Why it failed</th>
          </tr>
        </thead>
        <tbody>
          {result.outcomes.map((outcome) => (
            <tr key={outcome.id} data-outcome={outcome.id}>
              <th scope="row">{outcome.id}</th>
              <td>
                <code>{outcome.event_id ?? '–'}</code>
              </td>
              <td>
                <StatusPill status={OUTCOME_STATUS[outcome.outcome] ?? 'unknown'}>
                  {outcome.outcome}
                </StatusPill>
              </td>
              <td>
                {outcome.outcome === 'failed'
                  ? `${outcome.rule} on ${outcome.field}: ${outcome.message}`
                  : '–'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
