import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations, browserMissing, launchBrowser, signIn, type Browser } from '../support/browser.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

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
declare function getComputedStyle(node: unknown): {
  readonly outlineStyle: string;
  readonly backgroundColor: string;
  readonly color: string;
};
type HTMLElement = PageNode;
type Element = PageNode;

const missing = browserMissing();

/** Today's order: quantity × unit price − tax, in EUR, on `channel` (and for `seller`). */
function order(
  orderId: string,
  o: { quantity: number; unitPrice: number; tax: number; channel: string; seller?: string },
) {
  const placedAt = new Date(Date.now() - 1_000).toISOString();
  const event = orderEvent({ orderId, placedAt, quantity: o.quantity, unitPrice: o.unitPrice });
  return {
    ...event,
    data: {
      ...event.data,
      channel: o.channel,
      ...(o.seller ? { seller_id: o.seller } : {}),
      lines: [{ ...event.data.lines[0]!, tax: o.tax }],
    },
  };
}

const tileValue = (page: Page, id: string) =>
  page.locator(`[data-testid="tile-${id}"] [data-testid="tile-value"]`).innerText();

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
  matches: (el: { text: string; testid: string | null; tag: string }) => boolean,
  limit = 40,
) {
  for (let i = 1; i <= limit; i += 1) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const active = document.activeElement as HTMLElement | null;
      return {
        text: active?.innerText ?? '',
        testid: active?.getAttribute('data-testid') ?? null,
        tag: active?.tagName ?? '',
      };
    });
    if (matches(el)) return i;
  }
  throw new Error('the element was not reached with Tab');
}

describe('the dashboard in a real browser', { skip: missing ?? false }, () => {
  let pulse: TestPulse;
  let browser: Browser;
  let page: Page;
  const cspErrors: string[] = [];
  let sellerKey: string;

  before(async () => {
    pulse = await startTestPulse();
    sellerKey = await pulse.keyFor('seller:S1');
    browser = await launchBrowser();
    page = await (await browser.context()).newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspErrors.push(message.text());
    });
  });
  after(async () => {
    await browser?.close();
    await pulse?.dispose();
  });

  it('signs in and shows six tiles, with no accessibility violation', async () => {
    await page.goto(`${pulse.url}/app/`);
    await expectNoAxeViolations(page, 'sign-in');
    await signIn(page, pulse.url, pulse.key);
    await page.waitForFunction(() => document.querySelectorAll('li[data-testid^="tile-"]').length === 6);
    const ids = await page.$$eval('li[data-testid^="tile-"]', (tiles) =>
      tiles.map((t) => t.getAttribute('data-testid')),
    );
    assert.deepEqual(ids, [
      'tile-net_revenue',
      'tile-conversion_rate',
      'tile-fulfilment_sla',
      'tile-return_rate',
      'tile-csat_index',
      'tile-inventory_risk',
    ]);
    assert.equal(await tileValue(page, 'net_revenue'), '0.00');
    await page.waitForSelector('[data-testid="live-state"]:has-text("Live")');
    const status = await page
      .locator('[data-testid="tile-net_revenue"] [data-testid="tile-status"]')
      .innerText();
    assert.match(
      status,
      /No band yet|Within tolerance|Warning|Critical/,
      'the status is written, not only coloured',
    );
    assert.match(
      await page.locator('[data-testid="tile-net_revenue"] [data-testid="tile-quality"]').innerText(),
      /quality: ok/,
    );
    await expectNoAxeViolations(page, 'overview');
  });

  it('moves the Net Revenue tile to the hand-computed value soon after each POST returns', async (t) => {
    // A: 2 × 10 − 2 tax = 18.00. B (seller S1): 1 × 30 − 5 tax = 25.00; total 43.00.
    for (const [event, expected] of [
      [order('A', { quantity: 2, unitPrice: 10, tax: 2, channel: 'web' }), '18.00'],
      [order('B', { quantity: 1, unitPrice: 30, tax: 5, channel: 'marketplace', seller: 'S1' }), '43.00'],
    ] as const) {
      const posted = await pulse.post(JSON.stringify(event), 'application/cloudevents+json');
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      const returned = Date.now();
      // The target is 1 s (bench/dashboard.ts measures p50/p95); the wait here is long because the
      // machine running the suite is shared and can be saturated: the test holds the value, the bench the time.
      await page.waitForFunction(
        (want) =>
          document.querySelector('[data-testid="tile-net_revenue"] [data-testid="tile-value"]')
            ?.textContent === want,
        expected,
        { timeout: 30_000, polling: 'raf' },
      );
      t.diagnostic(`tile showed ${expected} ${Date.now() - returned} ms after the POST returned`);
    }
    assert.match(
      await page.locator('[data-testid="tile-net_revenue"]').innerText(),
      /as of \d\d:\d\d:\d\d \(\d+\.\d s ago\)/,
    );
  });

  it('is usable with the keyboard alone, down to the order lines under a bar', async () => {
    await page.goto(`${pulse.url}/app/#/`);
    await page.waitForFunction(() => document.querySelectorAll('li[data-testid^="tile-"]').length === 6);
    await tabTo(page, (el) => el.tag === 'A' && el.text === 'Net Revenue');
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    );
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/kpi/net_revenue');
    await page.waitForSelector('[data-testid="breakdown-bar"]');
    // Bars by channel, largest first: marketplace 25.00, web 18.00.
    const bars = await page.$$eval('[data-testid="breakdown-bar"]', (els) =>
      els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
    );
    assert.deepEqual(bars, ['marketplace 25.00', 'web 18.00']);
    await tabTo(page, (el) => el.testid === 'breakdown-bar' && el.text.includes('web'));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="records"]');
    const rows = await page.$$eval('[data-testid="records"] tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    const header = await page.$$eval('[data-testid="records"] thead th', (ths) =>
      ths.map((th) => th.textContent),
    );
    assert.equal(rows.length, 1);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[0]![i]]));
    assert.equal(row.record, 'order_line');
    assert.equal(row.order_id, 'A');
    assert.equal(row.sku, 'SKU-1');
    assert.equal(row.quantity, '2');
    assert.equal(row.amount_eur, '18.00');
    await expectNoAxeViolations(page, 'KPI page');
  });

  it('shows the governed definition on focus and renders comments as text', async () => {
    await page.focus('button[aria-describedby="kpi-definition"]');
    assert.ok(await page.isVisible('#kpi-definition'));
    assert.match(
      await page.innerText('#kpi-definition'),
      /Σ\(gross − discount − tax\).*Owner: finance-analytics/s,
    );
    const hostile = '<img src=x onerror="document.title=1"> check the promo';
    await page.fill('#comment-text', hostile);
    await page.click('button:has-text("Post comment")');
    await page.waitForSelector(`[data-testid="comments"] .comment-body`);
    assert.equal(await page.innerText('[data-testid="comments"] .comment-body'), hostile);
    assert.equal(await page.locator('[data-testid="comments"] img').count(), 0);
    assert.match(await page.innerText('[data-testid="comments"]'), /test admin/);
  });

  it('applies the high-contrast theme, still with no violation', async () => {
    await tabTo(page, (el) => el.text === 'High contrast');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'contrast');
    const colours = await page.evaluate(() => {
      const html = getComputedStyle(document.documentElement);
      return [html.backgroundColor, html.color];
    });
    assert.deepEqual(colours, ['rgb(0, 0, 0)', 'rgb(255, 255, 255)']);
    await expectNoAxeViolations(page, 'KPI page, high contrast');
    await page.goto(`${pulse.url}/app/#/`);
    await page.waitForFunction(() => document.querySelectorAll('li[data-testid^="tile-"]').length === 6);
    assert.equal(
      await page.evaluate(() => document.documentElement.dataset.theme),
      'contrast',
      'the choice is kept',
    );
    await expectNoAxeViolations(page, 'overview, high contrast');
  });

  it('shows a seller its own numbers only', async () => {
    const sellerPage = await (await browser.context()).newPage();
    await signIn(sellerPage, pulse.url, sellerKey);
    await sellerPage.waitForSelector('li[data-testid="tile-net_revenue"]');
    const ids = await sellerPage.$$eval('li[data-testid^="tile-"]', (tiles) =>
      tiles.map((t) => t.getAttribute('data-testid')),
    );
    assert.deepEqual(ids, ['tile-net_revenue', 'tile-fulfilment_sla', 'tile-return_rate']);
    // Only B (25.00) is S1's; A (18.00) belongs to no seller.
    await sellerPage.waitForFunction(
      () =>
        document.querySelector('[data-testid="tile-net_revenue"] [data-testid="tile-value"]')?.textContent ===
        '25.00',
    );
    await sellerPage.goto(`${pulse.url}/app/#/kpi/net_revenue`);
    await sellerPage.waitForSelector('[data-testid="breakdown-bar"]');
    const options = await sellerPage.$$eval('#breakdown-dimension option', (os) =>
      os.map((o) => o.textContent),
    );
    assert.ok(!options.includes('seller'));
    assert.deepEqual(
      await sellerPage.$$eval('[data-testid="breakdown-bar"]', (els) =>
        els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
      ),
      ['marketplace 25.00'],
    );
    assert.equal(await sellerPage.locator('#comments-title').count(), 0);
    const text = await sellerPage.innerText('main');
    assert.ok(!text.includes('18.00') && !text.includes('43.00'), 'no other numbers on the page');
    await expectNoAxeViolations(sellerPage, 'seller KPI page');
  });

  it('ran under the CSP without a single violation', () => {
    assert.deepEqual(cspErrors, []);
  });
});
