import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations, browserMissing, launchBrowser, signIn, type Browser } from '../support/browser.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';
import { fxRate, order } from '../support/quality.js';

// These callbacks run inside the page; the Node program has no DOM types, so the few used are declared here.
interface PageNode {
  readonly innerText: string;
  readonly textContent: string | null;
  readonly tagName: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode> & { readonly length: number };
}
declare const document: PageNode & {
  readonly activeElement: PageNode | null;
  readonly documentElement: PageNode & { readonly dataset: Record<string, string | undefined> };
};
declare const location: { readonly hash: string };
declare function getComputedStyle(node: unknown): { readonly outlineStyle: string };
type HTMLElement = PageNode;

type Json = Record<string, unknown>;
interface Verdict {
  rule: string;
  table: string;
  severity: string;
  status: 'pass' | 'fail' | 'not_evaluated';
  checked: number;
  failed: number;
}
interface ScoreRow {
  rule: string;
  day: string;
  checked: number;
  failed: number;
}
interface Quality {
  holds: Record<string, { rules: { rule: string; table: string; failed: number }[] }>;
  current: Verdict[];
  scorecard: ScoreRow[];
}
interface LineageNode {
  id: string;
  kind: string;
  dataset: string;
}
interface Impact {
  nodes: LineageNode[];
  kpis: string[];
  contractFields: string[];
}
interface Entry {
  id: number;
  event_id: string | null;
  status: string;
  updated_by: string | null;
}
interface Run {
  id: string;
  trigger: string | null;
  status: string;
  models: { model: string; mode: string; rows: number }[];
}

const missing = browserMissing();
const RATE_RULE = 'silver_fx_rates.rate_to_eur.range';
const VERDICT = { pass: 'Pass', fail: 'Fail', not_evaluated: 'Not evaluated' } as const;

async function expectNoAxeViolations(page: Page, where: string) {
  const violations = await axeViolations(page);
  assert.deepEqual(
    violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${where}`,
  );
}

/** Presses Tab until the focused element matches, as a keyboard user would; returns how many presses. */
async function tabTo(
  page: Page,
  matches: (el: { text: string; tag: string; id: string | null }) => boolean,
  limit = 40,
) {
  for (let i = 1; i <= limit; i += 1) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const active = document.activeElement as HTMLElement | null;
      return {
        text: active?.innerText ?? '',
        tag: active?.tagName ?? '',
        id: active?.getAttribute('id') ?? null,
      };
    });
    if (matches(el)) return i;
  }
  throw new Error('the element was not reached with Tab');
}

async function focusIsVisible(page: Page): Promise<boolean> {
  return (await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle)) !== 'none';
}

/** Every cell of the rows matching `rows`, as the reader sees it (whitespace collapsed). */
function cells(page: Page, rows: string): Promise<string[][]> {
  return page.$$eval(rows, (trs) =>
    trs.map((tr) =>
      [...(tr as unknown as PageNode).querySelectorAll(':scope > th, :scope > td')].map((cell) =>
        cell.innerText.replace(/\s+/g, ' ').trim(),
      ),
    ),
  );
}

/** A pass rate computed here from the scorecard's counts, in the page's format. */
function passRate(row: ScoreRow | undefined): string {
  if (!row) return '–';
  if (row.checked === 0) return 'no rows';
  return `${(((row.checked - row.failed) / row.checked) * 100).toFixed(1)} %`;
}

describe('the dashboard pages: quality, lineage, quarantine, runs', { skip: missing ?? false }, () => {
  let pulse: TestPulse;
  let browser: Browser;
  let page: Page;
  let readKey: string;
  let sellerKey: string;
  let slaRunId: string;
  const cspErrors: string[] = [];
  const api = async <T = Json>(path: string): Promise<T> => {
    const response = await pulse.fetch(`${pulse.url}${path}`);
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  };

  before(async () => {
    // Runs happen when the test asks (refresh), so the page and the API read the same state.
    pulse = await startTestPulse({ refreshDebounceMs: 3_600_000 });
    readKey = await pulse.keyFor('read');
    sellerKey = await pulse.keyFor('seller:S1');
    const now = new Date(Date.now() - 60_000);
    const placedAt = now.toISOString();
    const hour = `${placedAt.slice(0, 13)}:00:00Z`;
    // A good order; a rate of 1e-11 passes the contract but is 0 in DECIMAL(18, 10): the error rule
    // on silver_fx_rates fails and holds the KPIs reading the rates (test/integration/quality-gate.test.ts).
    const good = await pulse.post(
      JSON.stringify([order('OK-1', { placedAt, unitPrice: 40 }), fxRate('GBP', hour, 0.00000000001)]),
      'application/cloudevents-batch+json',
    );
    assert.equal(good.status, 200, JSON.stringify(good.body));
    // 27 orders with a quantity of −1 (more than a page of 25) and one with a negative price.
    const bad = await pulse.post(
      JSON.stringify([
        ...Array.from({ length: 27 }, (_, i) => order(`Q-${i + 1}`, { placedAt, quantity: -1 })),
        order('P-1', { placedAt, unitPrice: -5 }),
      ]),
      'application/cloudevents-batch+json',
    );
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.equal(bad.body.quarantined, 28);
    await pulse.refresh();
    // A cadence job whose SLA (1 ms) no refresh can meet: a breach through the real code path. It has
    // a new order to work on.
    const next = await pulse.post(
      JSON.stringify(order('OK-2', { placedAt, unitPrice: 15 })),
      'application/cloudevents+json',
    );
    assert.equal(next.status, 200, JSON.stringify(next.body));
    const tick = await pulse.jobs.tick({
      name: 'kpi_e2e',
      kpis: ['net_revenue'],
      everyMs: 120_000,
      slaMs: 1,
    });
    slaRunId = tick?.runId as string;
    assert.ok(slaRunId);
    browser = await launchBrowser();
    page = await (await browser.context()).newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspErrors.push(message.text());
    });
    await signIn(page, pulse.url, pulse.key);
  });
  after(async () => {
    await browser?.close();
    await pulse?.dispose();
  });

  it('reaches every page from the main nav with the keyboard alone, focus visible', async () => {
    await page.goto(`${pulse.url}/app/#/`);
    await page.waitForSelector('li[data-testid^="tile-"]');
    for (const [link, hash, heading] of [
      ['Quality', '#/quality', 'Data quality'],
      ['Lineage', '#/lineage', 'Lineage'],
      ['Runs', '#/runs', 'Model runs'],
      ['Quarantine', '#/quarantine', 'Quarantine'],
    ] as const) {
      await tabTo(page, (el) => el.tag === 'A' && el.text === link);
      assert.ok(await focusIsVisible(page), `focus is visible on ${link}`);
      await page.keyboard.press('Enter');
      await page.waitForFunction((want) => location.hash === want, hash);
      await page.waitForFunction((want) => document.querySelector('main h1')?.textContent === want, heading);
      assert.equal(await page.getAttribute(`nav a[href="${hash}"]`, 'aria-current'), 'page');
    }
    assert.equal(await page.title(), 'Quarantine · Pulse');
  });

  it('shows every rule with the verdict and pass rates of /v1/quality, and the KPIs the bad rate holds', async () => {
    await page.goto(`${pulse.url}/app/#/quality`);
    await page.waitForSelector('[data-testid="quality-rules"] tr[data-rule]');
    const quality = await api<Quality>('/v1/quality');
    // The bad rate fails its rule on one row and holds at least Net Revenue.
    const rateRule = quality.current.find((r) => r.rule === RATE_RULE);
    assert.equal(rateRule?.status, 'fail');
    assert.equal(rateRule?.failed, 1);
    assert.ok(quality.holds.net_revenue?.rules.some((r) => r.rule === RATE_RULE));

    const days = [...new Set(quality.scorecard.map((r) => r.day))].sort().reverse().slice(0, 5);
    const score = new Map(quality.scorecard.map((r) => [`${r.rule}|${r.day}`, r]));
    const expected = quality.current.map((r) => [
      r.rule,
      r.table,
      r.severity,
      VERDICT[r.status],
      r.status === 'not_evaluated' ? '–' : `${r.failed} ÷ ${r.checked}`,
      ...days.map((day) => passRate(score.get(`${r.rule}|${day}`))),
    ]);
    const shown = (await cells(page, '[data-testid="quality-rules"] tbody tr[data-rule]')).map((row) => [
      row[0],
      row[1],
      row[3],
      (row[4] ?? '').replace(/^[^A-Za-z]+/, ''),
      // Volume and freshness rules add their measure after the counts.
      /^(–|\d+ ÷ \d+)/.exec(row[5] ?? '')?.[0],
      ...row.slice(6, 6 + days.length),
    ]);
    assert.equal(shown.length, quality.current.length);
    assert.deepEqual(shown, expected);
    const failing = quality.current.filter((r) => r.status === 'fail').length;
    assert.match(
      await page.innerText('[data-testid="quality-summary"]'),
      new RegExp(`^${quality.current.length} rules shown, ${failing} failing`),
    );

    // Held KPIs: the same set as the API, each naming the rule and its failing rows.
    const held = await page.$$eval('[data-testid^="hold-"]', (els) =>
      els.map((e) => [e.getAttribute('data-testid'), (e as HTMLElement).innerText]),
    );
    assert.deepEqual(
      held.map(([id]) => id).sort(),
      Object.keys(quality.holds)
        .map((k) => `hold-${k}`)
        .sort(),
    );
    const netRevenue = held.find(([id]) => id === 'hold-net_revenue')?.[1] ?? '';
    assert.match(netRevenue, /Held\s+net_revenue serves its last good value since .* UTC, because/);
    assert.match(
      netRevenue,
      new RegExp(`${RATE_RULE.replace(/\./g, '\\.')} fails on 1 row of silver_fx_rates`),
    );

    // Failing keys on demand: the rate's key is the currency and hour posted.
    await page.click(`tr[data-rule="${RATE_RULE}"] button`);
    const sample = await cells(page, '[data-testid="failing-sample"] tbody tr');
    const header = await page.$$eval('[data-testid="failing-sample"] thead th', (ths) =>
      ths.map((th) => th.textContent),
    );
    assert.equal(sample.length, 1);
    assert.equal(sample[0]?.[header.indexOf('currency')], 'GBP');
    await expectNoAxeViolations(page, 'quality page, a sample open');

    // Filters: one table, then its error rules only.
    await page.selectOption('#quality-table', 'silver_fx_rates');
    const onTable = quality.current.filter((r) => r.table === 'silver_fx_rates').map((r) => r.rule);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="quality-rules"] tr[data-rule]').length === n,
      onTable.length,
    );
    assert.deepEqual(
      await page.$$eval('[data-testid="quality-rules"] tr[data-rule]', (trs) =>
        trs.map((tr) => tr.getAttribute('data-rule')),
      ),
      onTable,
    );
    await page.selectOption('#quality-severity', 'warn');
    const warn = quality.current
      .filter((r) => r.table === 'silver_fx_rates' && r.severity === 'warn')
      .map((r) => r.rule);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="quality-rules"] tr[data-rule]').length === n,
      warn.length,
    );
    assert.ok(!warn.includes(RATE_RULE));
  });

  it('finds a column by search and lists its downstream KPIs and nodes as GET /v1/lineage does', async () => {
    const node = 'silver_order_lines.net_eur';
    const [graph, down, up] = await Promise.all([
      api<{ nodes: LineageNode[]; glossary: unknown[] }>('/v1/lineage'),
      api<Impact>(`/v1/lineage?node=${encodeURIComponent(node)}&direction=downstream`),
      api<Impact>(`/v1/lineage?node=${encodeURIComponent(node)}&direction=upstream`),
    ]);
    assert.ok(down.kpis.includes('net_revenue'), 'net revenue is computed from the lines in EUR');
    await page.goto(`${pulse.url}/app/#/lineage`);
    await page.waitForSelector('[data-testid="lineage-graph"]');
    // Suggestions: every node of the graph and every table, once.
    const options = await page.$$eval('#lineage-suggestions option', (os) =>
      os.map((o) => o.getAttribute('value')),
    );
    assert.equal(
      options.length,
      new Set([...graph.nodes.map((n) => n.id), ...graph.nodes.map((n) => n.dataset)]).size,
    );
    assert.ok(options.includes(node));
    assert.equal(
      await page.locator('[data-testid="glossary"] dt').count(),
      graph.glossary.length,
      'the glossary has every term',
    );
    // With the keyboard: Tab to the search box, type, Enter.
    await tabTo(page, (el) => el.id === 'lineage-node');
    await page.keyboard.type(node);
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (want) => decodeURIComponent(location.hash) === `#/lineage?node=${want}`,
      node,
    );
    await page.waitForSelector('[data-testid="lineage-downstream"]');
    assert.deepEqual(
      await page.$$eval('[data-testid="lineage-kpis"] a', (as) => as.map((a) => a.textContent)),
      down.kpis,
    );
    const rowIds = (table: string) =>
      page.$$eval(`[data-testid="${table}"] tbody th a`, (as) => as.map((a) => a.textContent ?? ''));
    assert.deepEqual((await rowIds('lineage-downstream')).sort(), down.nodes.map((n) => n.id).sort());
    assert.deepEqual((await rowIds('lineage-upstream')).sort(), up.nodes.map((n) => n.id).sort());
    assert.match(
      await page.innerText('[data-testid="lineage-contract-count"]'),
      new RegExp(
        `Computed from ${up.contractFields.length} contract fields; ${up.nodes.length} nodes upstream, ${down.nodes.length} downstream`,
      ),
    );
    // The graph draws the node itself and every node up- and downstream, and says so in text.
    const drawn = new Set([node, ...up.nodes.map((n) => n.id), ...down.nodes.map((n) => n.id)]);
    assert.equal(await page.locator('[data-testid="lineage-graph"] g.lg-node').count(), drawn.size);
    assert.equal(await page.getAttribute('[data-testid="lineage-graph"]', 'role'), 'img');
    assert.match(
      (await page.textContent('[data-testid="lineage-graph"] desc')) ?? '',
      new RegExp(`^Lineage of ${node}, upstream and downstream: ${drawn.size} nodes`),
    );
    assert.equal(
      await page.locator('[data-testid="lineage-graph"] g.lg-focus').count(),
      1,
      'the node explored is marked',
    );
    // A KPI in the list opens its page.
    await page.click('[data-testid="lineage-kpis"] a:text-is("net_revenue")');
    await page.waitForFunction(() => location.hash === '#/kpi/net_revenue');
    await page.goto(`${pulse.url}/app/#/lineage?node=${encodeURIComponent(node)}`);
    await page.waitForSelector('[data-testid="lineage-downstream"]');
    await expectNoAxeViolations(page, 'lineage page, a column explored');
  });

  it('pages through the quarantine, filters it, and replays entries: refused as is, remediated once corrected', async () => {
    const me = await api<{ key_id: string }>('/v1/me');
    const first = await api<{ entries: Entry[]; next_after: string }>('/v1/quarantine?limit=25');
    const second = await api<{ entries: Entry[] }>(`/v1/quarantine?limit=25&after=${first.next_after}`);
    assert.equal(first.entries.length + second.entries.length, 28);
    const shownIds = () =>
      page.$$eval('[data-testid="quarantine-entries"] tbody tr', (trs) =>
        trs.map((tr) => Number(tr.getAttribute('data-entry'))),
      );
    await page.goto(`${pulse.url}/app/#/quarantine`);
    await page.waitForSelector('[data-testid="quarantine-entries"]');
    assert.deepEqual(
      await shownIds(),
      first.entries.map((e) => e.id),
    );
    await page.click('button:text-is("Next page")');
    await page.waitForSelector('h2:text-is("Entries, page 2")');
    assert.deepEqual(
      await shownIds(),
      second.entries.map((e) => e.id),
    );
    await page.click('button:text-is("Previous page")');
    await page.waitForSelector('h2:text-is("Entries, page 1")');

    // The negative price is the only entry on its field.
    await page.fill('#quarantine-field', 'data.lines[0].unit_price');
    await page.click('button:text-is("Apply filters")');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="quarantine-entries"] tbody tr').length === 1,
    );
    const priceRow = (await cells(page, '[data-testid="quarantine-entries"] tbody tr'))[0] ?? [];
    assert.equal(priceRow[4], 'evt-P-1');
    assert.equal(priceRow[6], 'data.lines[0].unit_price');

    // Replayed as they are, two quantity entries fail the same rule again and stay open.
    const byEvent = new Map([...first.entries, ...second.entries].map((e) => [e.event_id, e.id]));
    const [q1, q2] = [byEvent.get('evt-Q-1') as number, byEvent.get('evt-Q-2') as number];
    await page.fill('#quarantine-field', 'data.lines[0].quantity');
    await page.selectOption('#quarantine-status', 'open');
    await page.click('button:text-is("Apply filters")');
    await page.waitForSelector(`tr[data-entry="${q1}"]`);
    await page.check(`input[aria-label="Select entry ${q1}"]`);
    await page.check(`input[aria-label="Select entry ${q2}"]`);
    assert.equal(await page.innerText('[data-testid="selected-count"]'), '2');
    await page.click('button:text-is("Replay 2 selected")');
    await page.waitForSelector('[data-testid="replay-summary"]');
    assert.equal(
      await page.innerText('[data-testid="replay-summary"]'),
      '0 accepted, 0 duplicates, 2 failed.',
    );
    assert.match(
      await page.innerText(`tr[data-outcome="${q1}"]`),
      /failed[\s\S]*minimum on data\.lines\[0\]\.quantity/,
    );

    // Corrected (quantity 3), the first is accepted, leaves the open list and reaches silver.
    await page.check(`input[aria-label="Select entry ${q1}"]`);
    await page.fill('#fix-path', 'data.lines[0].quantity');
    await page.fill('#fix-value', '3');
    await page.click('button:text-is("Replay 1 selected")');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="replay-summary"]')?.textContent ===
        '1 accepted, 0 duplicates, 0 failed.',
    );
    await page.waitForSelector(`tr[data-entry="${q1}"]`, { state: 'detached' });
    assert.ok(await page.isVisible(`tr[data-entry="${q2}"]`));
    await page.selectOption('#quarantine-status', 'remediated');
    await page.click('button:text-is("Apply filters")');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="quarantine-entries"] tbody tr').length === 1,
    );
    assert.match(
      await page.innerText(`tr[data-entry="${q1}"] [data-testid="entry-status"]`),
      new RegExp(`remediated\\s+by ${me.key_id}`),
    );
    const stored = await api<{ entries: Entry[] }>('/v1/quarantine?status=remediated');
    assert.deepEqual(
      stored.entries.map((e) => [e.id, e.updated_by]),
      [[q1, me.key_id]],
    );
    await pulse.refresh();
    assert.deepEqual(
      (await pulse.sql(`SELECT quantity::INTEGER AS q FROM silver_order_lines WHERE order_id = 'Q-1'`)).map(
        (r) => r.q,
      ),
      [3],
    );
    await expectNoAxeViolations(page, 'quarantine page');
  });

  it('lists the runs of /v1/runs, opens a run’s models, and shows the SLA breach of the job', async () => {
    await page.goto(`${pulse.url}/app/#/runs`);
    await page.waitForSelector('[data-testid="runs"] tr[data-run]');
    const runs = (await api<{ runs: Run[] }>('/v1/runs?limit=20')).runs;
    const rows = await page.$$eval('[data-testid="runs"] tr[data-run]', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-run'),
        (tr.querySelector('[data-testid="run-status"]') as HTMLElement).innerText,
        tr.querySelector('[data-testid="run-rows"]')?.textContent,
      ]),
    );
    assert.deepEqual(
      rows.map(([id]) => id),
      runs.map((r) => r.id),
    );
    for (const [i, run] of runs.entries()) {
      assert.match(rows[i]?.[1] ?? '', new RegExp(run.status));
      // Rows written: the models' rows summed here.
      assert.equal(rows[i]?.[2], String(run.models.reduce((sum, m) => sum + m.rows, 0)));
    }
    // The job's run, by its trigger; its models on demand.
    await page.fill('#runs-trigger', 'kpi_e2e');
    await page.waitForFunction((id) => {
      const runRows = document.querySelectorAll('[data-testid="runs"] tr[data-run]');
      return runRows.length === 1 && [...runRows][0]?.getAttribute('data-run') === id;
    }, slaRunId);
    await page.click(`tr[data-run="${slaRunId}"] button`);
    await page.waitForSelector('[data-testid="run-models"]');
    const detail = await api<Run>(`/v1/runs/${slaRunId}`);
    assert.equal(detail.trigger, 'kpi_e2e');
    assert.deepEqual(
      (await cells(page, '[data-testid="run-models"] tbody tr')).map((r) => [r[0], r[1], r[2]]),
      detail.models.map((m) => [m.model, m.mode, String(m.rows)]),
    );
    // The breach: that job, that run, an SLA of 1 ms.
    const breaches = await cells(page, '[data-testid="breaches"] tbody tr');
    assert.equal(breaches.length, 1);
    assert.deepEqual([breaches[0]?.[1], breaches[0]?.[2], breaches[0]?.[3]], ['kpi_e2e', slaRunId, '1.0 ms']);
    await expectNoAxeViolations(page, 'runs page, a run open');
  });

  it('draws the KPI’s upstream lineage and lists the rules on its inputs, with the hold', async () => {
    const [up, quality] = await Promise.all([
      api<Impact>('/v1/lineage?node=net_revenue&direction=upstream'),
      api<Quality>('/v1/quality'),
    ]);
    // The tables Net Revenue reads, from its upstream columns; the rules on them, from the scorecard API.
    const tables = new Set(
      up.nodes.filter((n) => n.kind === 'column' && n.dataset !== 'bronze_events').map((n) => n.dataset),
    );
    assert.ok(tables.has('fact_order') && tables.has('silver_fx_rates'));
    const rules = quality.current.filter((r) => tables.has(r.table));
    await page.goto(`${pulse.url}/app/#/kpi/net_revenue`);
    await page.waitForSelector('[data-testid="kpi-rules"] tr[data-rule]');
    // The graph's table alternative, behind a disclosure on this page.
    await page.click('summary:has-text("The same as a table")');
    await page.waitForSelector('[data-testid="lineage-upstream"]', { state: 'visible' });
    assert.deepEqual(
      (
        await page.$$eval('[data-testid="lineage-upstream"] tbody th a', (as) =>
          as.map((a) => a.textContent ?? ''),
        )
      ).sort(),
      up.nodes.map((n) => n.id).sort(),
    );
    assert.equal(await page.locator('[data-testid="lineage-graph"] g.lg-node').count(), up.nodes.length + 1);
    const shown = await cells(page, '[data-testid="kpi-rules"] tr[data-rule]');
    assert.deepEqual(shown.map((r) => r[0]).sort(), rules.map((r) => r.rule).sort());
    // Failing first: the rate rule heads the table, as a failing error rule.
    assert.equal(shown[0]?.[0], RATE_RULE);
    assert.match(shown[0]?.[3] ?? '', /Fail/);
    assert.match(
      await page.innerText('[data-testid="kpi-hold"]'),
      new RegExp(
        `Held since .*: it serves its last good value because ${RATE_RULE.replace(/\./g, '\\.')} fails on 1 rows`,
      ),
    );
    const failing = rules.filter((r) => r.status === 'fail').length;
    assert.match(
      await page.innerText('[data-testid="kpi-rules-summary"]'),
      new RegExp(`^${rules.length} rules on its ${tables.size} input tables, ${failing} failing`),
    );
    await expectNoAxeViolations(page, 'KPI page with lineage and rules');
    await page.click('a:text-is("All rules on the quality page")');
    await page.waitForFunction(() => location.hash === '#/quality');
  });

  it('has no accessibility violation on any page in the high-contrast theme', async () => {
    await page.click('button:text-is("High contrast")');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'contrast');
    for (const [hash, ready] of [
      ['#/quality', '[data-testid="quality-rules"] tr[data-rule]'],
      ['#/lineage', '[data-testid="lineage-graph"]'],
      ['#/lineage?node=order.placed.lines%5B%5D.discount', '[data-testid="lineage-downstream"]'],
      ['#/quarantine', '[data-testid="quarantine-entries"]'],
      ['#/runs', '[data-testid="breaches"]'],
      ['#/kpi/net_revenue', '[data-testid="kpi-rules"]'],
    ] as const) {
      await page.goto(`${pulse.url}/app/${hash}`);
      await page.waitForSelector(ready);
      await expectNoAxeViolations(page, `${hash}, high contrast`);
    }
  });

  it('tells a read-only key that the quarantine is for admins, without asking the API for it', async () => {
    const readPage = await (await browser.context()).newPage();
    const asked: string[] = [];
    readPage.on('request', (request) => {
      if (request.url().includes('/v1/quarantine')) asked.push(request.url());
    });
    await signIn(readPage, pulse.url, readKey);
    await readPage.goto(`${pulse.url}/app/#/quarantine`);
    await readPage.waitForSelector('[data-testid="restricted"]');
    assert.equal(await readPage.innerText('#restricted-title'), 'Quarantine: admin only');
    assert.equal(await readPage.innerText('[data-testid="restricted-roles"]'), 'read');
    assert.equal(await readPage.locator('[data-testid="quarantine-entries"]').count(), 0);
    assert.deepEqual(asked, []);
    // The pages a read key may see work for it.
    await readPage.goto(`${pulse.url}/app/#/runs`);
    await readPage.waitForSelector('[data-testid="breaches"]');
    await expectNoAxeViolations(readPage, 'runs page, read key');
    await readPage.goto(`${pulse.url}/app/#/quarantine`);
    await readPage.waitForSelector('[data-testid="restricted"]');
    await expectNoAxeViolations(readPage, 'quarantine page, read key');
  });

  it('keeps a seller key to its KPIs: no such pages in its nav, a plain message if it goes there', async () => {
    const sellerPage = await (await browser.context()).newPage();
    await signIn(sellerPage, pulse.url, sellerKey);
    assert.deepEqual(
      await sellerPage.$$eval('nav[aria-label="Main"] a', (as) => as.map((a) => a.textContent)),
      ['Overview'],
    );
    await sellerPage.goto(`${pulse.url}/app/#/lineage`);
    await sellerPage.waitForSelector('[data-testid="restricted"]');
    assert.equal(await sellerPage.innerText('#restricted-title'), 'Not for this key');
  });

  it('ran under the CSP without a single violation', () => {
    assert.deepEqual(cspErrors, []);
  });
});
