import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, ApiError, canRead, getKey, setKey, type Me } from './api';
import { Overview } from './Overview';
import { KpiPage } from './KpiPage';
import { Restricted } from './ui';

// The pages beyond the overview and the KPI page load on first visit: the first load stays small.
const QualityPage = lazy(() => import('./QualityPage').then((m) => ({ default: m.QualityPage })));
const LineagePage = lazy(() => import('./LineagePage').then((m) => ({ default: m.LineagePage })));
const QuarantinePage = lazy(() => import('./QuarantinePage').then((m) => ({ default: m.QuarantinePage })));
const RunsPage = lazy(() => import('./RunsPage').then((m) => ({ default: m.RunsPage })));

const PAGES = [
  { page: 'quality', title: 'Quality' },
  { page: 'lineage', title: 'Lineage' },
  { page: 'runs', title: 'Runs' },
  { page: 'quarantine', title: 'Quarantine' },
] as const;
type PageName = (typeof PAGES)[number]['page'];

type Route =
  | { page: 'overview' }
  | { page: 'kpi'; id: string }
  | { page: PageName; params: Readonly<Record<string, string>> };

export function parseRoute(hash: string): Route {
  const kpi = /^#\/kpi\/([a-z0-9_]{1,64})$/.exec(hash);
  if (kpi) return { page: 'kpi', id: kpi[1] as string };
  const page = /^#\/(quality|lineage|runs|quarantine)(?:\?(.*))?$/.exec(hash);
  if (page)
    return {
      page: page[1] as PageName,
      params: Object.fromEntries(new URLSearchParams(page[2] ?? '')),
    };
  return { page: 'overview' };
}

function titleOf(route: Route): string {
  if (route.page === 'kpi') return route.id;
  if (route.page === 'overview') return 'Overview';
  const title = PAGES.find((p) => p.page === route.page)?.title ?? route.page;
  return route.page === 'lineage' && route.params.node ? `${route.params.node} · ${title}` : title;
}

const THEME_STORAGE = 'pulse.theme';

export function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [me, setMe] = useState<Me | null>(null);
  const [signInError, setSignInError] = useState<string | null>(null);
  const [contrast, setContrast] = useState(() => localStorage.getItem(THEME_STORAGE) === 'contrast');

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = contrast ? 'contrast' : 'default';
    localStorage.setItem(THEME_STORAGE, contrast ? 'contrast' : 'default');
  }, [contrast]);

  const signIn = useCallback(async (key: string) => {
    setKey(key);
    try {
      setMe(await api<Me>('/v1/me'));
      setSignInError(null);
    } catch (error) {
      setKey(null);
      setMe(null);
      setSignInError(error instanceof ApiError ? error.message : 'The API could not be reached');
    }
  }, []);

  useEffect(() => {
    const stored = getKey();
    if (stored) void signIn(stored);
  }, [signIn]);

  useEffect(() => {
    document.title = `${titleOf(route)} · Pulse`;
  }, [route]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header flex flex-wrap items-center gap-4 px-6 py-3">
        <a className="brand text-xl font-bold" href="#/">
          Pulse
        </a>
        <nav aria-label="Main" className="flex gap-3">
          <a href="#/" aria-current={route.page === 'overview' ? 'page' : undefined}>
            Overview
          </a>
          {me &&
            canRead(me) &&
            PAGES.map((p) => (
              <a key={p.page} href={`#/${p.page}`} aria-current={route.page === p.page ? 'page' : undefined}>
                {p.title}
              </a>
            ))}
        </nav>
        <div className="ml-auto flex items-center gap-3">
          {me && (
            <span data-testid="signed-in-as">
              {me.name ?? me.key_id}
              {me.seller_id ? ` · seller ${me.seller_id}` : ''}
            </span>
          )}
          <button
            type="button"
            className="button"
            aria-pressed={contrast}
            onClick={() => setContrast(!contrast)}
          >
            High contrast
          </button>
          {me && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setKey(null);
                setMe(null);
              }}
            >
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1} className="px-6 py-4">
        {!me ? (
          <SignIn onSubmit={signIn} error={signInError} />
        ) : route.page === 'kpi' ? (
          <KpiPage id={route.id} me={me} />
        ) : route.page === 'overview' ? (
          <Overview me={me} />
        ) : (
          <Suspense
            fallback={
              <p role="status" className="muted">
                Loading…
              </p>
            }
          >
            <Page route={route} me={me} />
          </Suspense>
        )}
      </main>
    </>
  );
}

function Page({ route, me }: { route: Extract<Route, { params: unknown }>; me: Me }) {
  if (!canRead(me))
    return (
      <Restricted title="Not for this key">
        This page needs a key with the read role; a seller key sees its own KPIs on the{' '}
        <a href="#/">overview</a>.
      </Restricted>
    );
  switch (route.page) {
    case 'quality':
      return <QualityPage table={route.params.table} />;
    case 'lineage':
      return <LineagePage node={route.params.node} />;
    case 'runs':
      return <RunsPage />;
    case 'quarantine':
      return <QuarantinePage me={me} />;
  }
}

function SignIn({ onSubmit, error }: { onSubmit: (key: string) => void; error: string | null }) {
  const [key, setKeyText] = useState('');
  return (
    <form
      className="panel max-w-xl p-6"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(key.trim());
      }}
    >
      <h1 className="mb-2 text-2xl font-bold">Sign in</h1>
      <p className="mb-4">
        Paste an API key (<code>pulse start --demo</code> prints one). It is kept in this tab only.
      </p>
      <label htmlFor="api-key" className="mb-1 block font-semibold">
        API key
      </label>
      <input
        id="api-key"
        className="input mb-3 w-full"
        type="password"
        autoComplete="off"
        value={key}
        onChange={(event) => setKeyText(event.target.value)}
        aria-describedby={error ? 'sign-in-error' : undefined}
        required
      />
      {error && (
        <p id="sign-in-error" role="alert" className="error mb-3">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary">
        Sign in
      </button>
    </form>
  );
}
