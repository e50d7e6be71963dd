import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseAlertsConfig, parseScorecardsConfig } from '../../src/alerts/index.js';
import { orderEvent, startTestPulse, TEST_TOKEN_KEY, type TestPulse } from '../support/pulse.js';
import aws4 from 'aws4';
import { startHttpReceiver, startS3Receiver, startSmtpReceiver } from '../support/receivers.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const SECRET = 'hook-secret-0123456789';
const BIN = fileURLToPath(new URL('../../../bin/pulse.js', import.meta.url));

function session(id: string, startedAt: string, channel = 'web') {
  return {
    specversion: '1.0',
    id: `evt-${id}`,
    source: '/shop/web',
    type: 'session.started',
    time: startedAt,
    data: { session_id: id, started_at: startedAt, channel, device: 'desktop' },
  };
}

function order(id: string, placedAt: string, country: string, quantity: number, channel = 'web') {
  const event = orderEvent({ orderId: id, placedAt, quantity, unitPrice: 10 });
  return { ...event, data: { ...event.data, country, channel } };
}

const ndjson = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n');

/** pdftotext (Debian's poppler-utils) on a PDF file: the text a reader would see. */
function pdfText(path: string): string {
  return execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
}

describe('alerts and scorecards', () => {
  let pulse: TestPulse;
  let http: Awaited<ReturnType<typeof startHttpReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let s3: Awaited<ReturnType<typeof startS3Receiver>>;
  const dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-'));
  let configYaml = '';

  before(async () => {
    http = await startHttpReceiver();
    smtp = await startSmtpReceiver();
    s3 = await startS3Receiver('pulse-scorecards');
    // Refused at once: a dead channel must not hold up the others.
    http.script('/flaky', [500, 503]);
    const raw = {
      evaluate_every: '100ms',
      channels: [
        { name: 'slack', type: 'slack', url: `${http.url}/slack` },
        { name: 'teams', type: 'teams', url: `${http.url}/teams` },
        { name: 'hook', type: 'webhook', url: `${http.url}/hook`, secret: SECRET },
        { name: 'flaky', type: 'webhook', url: `${http.url}/flaky`, secret: SECRET },
        { name: 'dead', type: 'webhook', url: 'http://127.0.0.1:1/dead', secret: SECRET },
        {
          name: 'mail',
          type: 'email',
          smtp: { host: '127.0.0.1', port: smtp.port },
          from: 'pulse@example.com',
          to: ['ops@example.com'],
        },
      ],
      band_rules: { enabled: false },
      rules: [
        {
          id: 'conv-web',
          kpi: 'conversion_rate',
          window: 'today',
          filter: { channel: 'web' },
          condition: 'below',
          threshold: 0.5,
          for: 0,
          cooldown: '1h',
          hysteresis: 0.05,
          channels: ['slack', 'teams', 'hook', 'flaky', 'dead', 'mail'],
        },
      ],
      // A generous timeout: on a loaded machine a slow answer must not turn into a retried (doubled) message.
      delivery: { attempts: 3, backoff: '50ms', timeout: '15s' },
    };
    const problems: string[] = [];
    const alerts = parseAlertsConfig(raw, problems);
    const scorecardsRaw = {
      dir: join(dir, 'scorecards'),
      regions: ['FR', 'DE'],
      email: { channel: 'mail', to: ['leads@example.com'] },
      status_channels: ['slack'],
      s3: {
        endpoint: s3.endpoint,
        bucket: 'pulse-scorecards',
        prefix: 'daily/',
        access_key_id: 'S3RVER',
        secret_access_key: 'S3RVER',
      },
    };
    const scorecards = parseScorecardsConfig(scorecardsRaw, problems, alerts);
    assert.deepEqual(problems, []);
    configYaml = JSON.stringify({
      privacy: { token_key: TEST_TOKEN_KEY },
      scorecards: { dir: join(dir, 'cli-scorecards') },
    });
    pulse = await startTestPulse({ dir, now: () => NOW, refreshDebounceMs: 10, alerts, scorecards });
    // The scorecard day, 2026-03-09: FR 2 orders of 2 × 10 − 2 tax = 18 EUR, DE 1 order of 5 × 10 − 2 = 48 EUR;
    // 3 orders over 6 sessions.
    const history = [
      order('H-1', '2026-03-09T09:00:00Z', 'FR', 2, 'store'),
      order('H-2', '2026-03-09T10:00:00Z', 'FR', 2, 'store'),
      order('H-3', '2026-03-09T11:00:00Z', 'DE', 5, 'store'),
      ...[1, 2, 3, 4, 5, 6].map((i) => session(`HS-${i}`, '2026-03-09T08:00:00Z', 'store')),
    ];
    assert.equal((await pulse.post(ndjson(history), 'application/x-ndjson')).status, 200);
    await pulse.refresh();
  });

  after(async () => {
    await pulse?.dispose();
    await http?.close();
    await smtp?.close();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires on a breach and delivers Slack Block Kit, a Teams Adaptive Card, a signed webhook and an e-mail', async () => {
    // Today on the web: 1 order over 4 sessions = 0.25, below 0.5.
    const events = [
      ...[1, 2, 3, 4].map((i) => session(`S-${i}`, '2026-03-10T10:00:00Z')),
      order('T-1', '2026-03-10T10:00:00Z', 'FR', 1),
    ];
    assert.equal((await pulse.post(ndjson(events), 'application/x-ndjson')).status, 200);

    const [slack] = await http.waitFor('/slack', 1);
    const slackBody = JSON.parse(slack!.body) as {
      text: string;
      blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[];
    };
    assert.equal(slackBody.blocks[0]?.type, 'header');
    assert.equal(slackBody.blocks[0]?.text?.text, 'FIRING warn: Conversion Rate (channel = web), today');
    const fields = slackBody.blocks.find((b) => b.type === 'section')?.fields?.map((f) => f.text) ?? [];
    assert.ok(fields.includes('*Value*\n25.00 %'), fields.join(' | '));
    assert.ok(fields.includes('*Band*\nbelow 0.5 (warn)'), fields.join(' | '));
    assert.ok(slackBody.text.startsWith('FIRING warn: Conversion Rate'));

    const [teams] = await http.waitFor('/teams', 1);
    const card = JSON.parse(teams!.body) as {
      type: string;
      attachments: {
        contentType: string;
        content: { type: string; body: { type: string; facts?: { title: string; value: string }[] }[] };
      }[];
    };
    assert.equal(card.type, 'message');
    assert.equal(card.attachments[0]?.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(card.attachments[0]?.content.type, 'AdaptiveCard');
    const facts = card.attachments[0]?.content.body.find((b) => b.type === 'FactSet')?.facts ?? [];
    assert.deepEqual(
      facts.find((f) => f.title === 'Value'),
      { title: 'Value', value: '25.00 %' },
    );

    const [hook] = await http.waitFor('/hook', 1);
    const timestamp = String(hook!.headers['x-pulse-timestamp']);
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${hook!.body}`).digest('hex')}`;
    assert.equal(hook!.headers['x-pulse-signature'], expected);
    const forged = `sha256=${createHmac('sha256', 'another-secret').update(`${timestamp}.${hook!.body}`).digest('hex')}`;
    assert.notEqual(hook!.headers['x-pulse-signature'], forged);
    const alert = (JSON.parse(hook!.body) as { kind: string; alert: Record<string, unknown> }).alert;
    assert.equal(alert.rule_id, 'conv-web');
    assert.equal(alert.value, 0.25);
    assert.equal(alert.transition, 'firing');
    assert.equal(alert.as_of, '2026-03-10T10:00:00.000Z');
    assert.deepEqual(alert.filter, { dimension: 'channel', value: 'web' });

    const [mail] = await smtp.waitFor(1);
    assert.equal(mail!.subject, '[Pulse] FIRING warn: Conversion Rate (channel = web), today');
    assert.match(mail!.text ?? '', /Value: 25\.00 %/);

    // The flaky receiver answered 500 and 503 before 200: three attempts, the last one delivered.
    await http.waitFor('/flaky', 3);
  });

  it('records every delivery attempt, and a dead channel fails without holding up the others', async () => {
    const answer = await waitForAlerts(pulse, (events) => {
      const event = events.find((e) => e.transition === 'firing');
      const deliveries = (event?.deliveries ?? []) as { channel: string; outcome: string }[];
      const settled = (channel: string, outcome: string) =>
        deliveries.some((d) => d.channel === channel && d.outcome === outcome);
      return settled('dead', 'failed') &&
        ['slack', 'teams', 'hook', 'mail', 'flaky'].every((channel) => settled(channel, 'delivered'))
        ? event
        : undefined;
    });
    const deliveries = answer.deliveries as {
      channel: string;
      attempt: number;
      outcome: string;
      status: number | null;
    }[];
    const flaky = deliveries
      .filter((d) => d.channel === 'flaky')
      .map((d) => [d.attempt, d.outcome, d.status]);
    assert.deepEqual(flaky, [
      [1, 'retrying', 500],
      [2, 'retrying', 503],
      [3, 'delivered', 200],
    ]);
    assert.deepEqual(
      deliveries.filter((d) => d.channel === 'dead').map((d) => d.outcome),
      ['retrying', 'retrying', 'failed'],
    );
    for (const channel of ['slack', 'teams', 'hook', 'mail'])
      assert.ok(
        deliveries.some((d) => d.channel === channel && d.outcome === 'delivered'),
        channel,
      );
  });

  it('resolves once the value is back in band, and a new breach within the cooldown is not sent again', async () => {
    // 3 more web orders: 4 over 4 sessions = 1.0.
    const orders = [2, 3, 4].map((i) => order(`T-${i}`, '2026-03-10T10:05:00Z', 'FR', 1));
    assert.equal((await pulse.post(ndjson(orders), 'application/x-ndjson')).status, 200);
    const slack = await http.waitFor('/slack', 2);
    const resolved = JSON.parse(slack[1]!.body) as { blocks: { text?: { text: string } }[] };
    assert.equal(resolved.blocks[0]?.text?.text, 'RESOLVED warn: Conversion Rate (channel = web), today');

    // 10 more sessions: 4 over 14 ≈ 0.286, a breach again, 1 h cooldown not over.
    const sessions = Array.from({ length: 10 }, (_, i) => session(`S2-${i}`, '2026-03-10T10:10:00Z'));
    assert.equal((await pulse.post(ndjson(sessions), 'application/x-ndjson')).status, 200);
    await waitForAlerts(pulse, (events) => events.find((e) => e.transition === 'suppressed'));
    await pulse.alerting.dispatcher.idle();
    assert.equal(http.on('/slack').length, 2, 'no new Slack message within the cooldown');
    assert.equal(smtp.mails.length, 2);

    const metrics = await (await pulse.fetch(`${pulse.url}/metrics`)).text();
    assert.match(metrics, /pulse_alert_transitions_total\{transition="firing"\} 1\n/);
    assert.match(metrics, /pulse_alert_transitions_total\{transition="suppressed"\} 1\n/);
  });

  it('answers GET /v1/alerts to read keys only, and refuses bad filters naming the field', async () => {
    const reader = await pulse.keyFor('read');
    const ok = await fetch(`${pulse.url}/v1/alerts?rule=conv-web&transition=resolved`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { rules: { rule_id: string }[]; events: { transition: string }[] };
    assert.deepEqual(
      body.rules.map((r) => r.rule_id),
      ['conv-web'],
    );
    assert.deepEqual(
      body.events.map((e) => e.transition),
      ['resolved'],
    );
    const bad = await pulse.fetch(`${pulse.url}/v1/alerts?transition=exploded`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'transition');
    const seller = await pulse.keyFor('seller:S1');
    const denied = await fetch(`${pulse.url}/v1/alerts`, { headers: { authorization: `Bearer ${seller}` } });
    assert.equal(denied.status, 403);
  });

  it('renders a region’s PDF scorecard with the numbers computed by hand', async () => {
    const response = await pulse.fetch(`${pulse.url}/v1/scorecards`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'FR', date: '2026-03-09' }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    const path = join(dir, 'fr.pdf');
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    const text = pdfText(path);
    assert.match(text, /Pulse scorecard: FR, 2026-03-09/);
    for (const label of [
      'Net Revenue',
      'Conversion Rate',
      'Fulfilment SLA',
      'Return Rate',
      'CSAT Index',
      'Inventory Risk',
    ])
      assert.ok(text.includes(label), label);
    // FR: 2 × (2 × 10 − 2) = 36.00 EUR; conversion is company-wide: 3 orders / 6 sessions.
    assert.match(text, /36\.00 EUR/);
    assert.match(text, /50\.00 %/);
    assert.match(text, /Company-wide/);
    assert.match(text, /Status: OK/);
    // The same PDF was copied to the bucket (read back with a signed GET).
    const url = new URL(s3.endpoint);
    const get = aws4.sign(
      {
        host: url.host,
        path: '/pulse-scorecards/daily/2026-03-09/scorecard-FR-2026-03-09.pdf',
        service: 's3',
        region: 'us-east-1',
      },
      { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    );
    const stored = await fetch(`${s3.endpoint}${get.path}`, {
      headers: get.headers as Record<string, string>,
    });
    assert.equal(stored.status, 200);
    assert.ok(Buffer.from(await stored.arrayBuffer()).equals(readFileSync(path)));
    // And as an image: pdftoppm renders the first page.
    execFileSync('pdftoppm', ['-png', '-r', '40', '-f', '1', '-l', '1', path, join(dir, 'page')]);
    const png = [join(dir, 'page-1.png'), join(dir, 'page-01.png')].find((p) => existsSync(p));
    assert.ok(png, 'pdftoppm wrote the first page');
    assert.ok(statSync(png).size > 2_000);

    const bad = await pulse.fetch(`${pulse.url}/v1/scorecards`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'FR', date: '2026-02-30' }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'date');
    const lower = await pulse.fetch(`${pulse.url}/v1/scorecards`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'fr', date: '2026-03-09' }),
    });
    assert.equal(lower.status, 400);
    assert.equal(((await lower.json()) as { error: { field: string } }).error.field, 'region');
  });

  it('e-mails every region’s PDF and sends the morning status', async () => {
    const before = smtp.mails.length;
    const rendered = await pulse.alerting.scorecards.distribute('2026-03-09');
    assert.deepEqual(
      rendered.map((r) => r.region),
      ['FR', 'DE'],
    );
    const mails = await smtp.waitFor(before + 1);
    const mail = mails[before]!;
    assert.deepEqual(
      (Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((t) => t!.value.map((v) => v.address)),
      ['leads@example.com'],
    );
    assert.deepEqual(
      mail.attachments.map((a) => [a.filename, a.contentType]),
      [
        ['scorecard-FR-2026-03-09.pdf', 'application/pdf'],
        ['scorecard-DE-2026-03-09.pdf', 'application/pdf'],
      ],
    );
    const de = join(dir, 'de-mailed.pdf');
    writeFileSync(de, mail.attachments[1]!.content);
    // DE: 5 × 10 − 2 = 48.00 EUR
    assert.match(pdfText(de), /48\.00 EUR/);

    const slackBefore = http.on('/slack').length;
    await pulse.alerting.scorecards.sendStatus('2026-03-09');
    const slack = await http.waitFor('/slack', slackBefore + 1);
    const status = JSON.parse(slack[slackBefore]!.body) as { blocks: { fields?: { text: string }[] }[] };
    const lines = status.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    // Company-wide: 36 + 48 = 84.00 EUR
    assert.ok(lines.includes('*Net Revenue*\n84.00 EUR [NO DATA]'), lines.join(' | '));
    assert.ok(lines.includes('*Conversion Rate*\n50.00 % [OK]'), lines.join(' | '));
  });

  it('renders scorecards from the command line, and names a bad flag', async () => {
    await pulse.close();
    const config = join(dir, 'pulse.config.yaml');
    writeFileSync(config, configYaml);
    const { PULSE_TOKEN_KEY: _ignored, ...env } = process.env;
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [BIN, 'scorecard', ...args, '--db', pulse.dbPath, '--config', config], {
        encoding: 'utf8',
        env,
        timeout: 120_000,
      });
    const good = cli(['--region', 'FR', '--date', '2026-03-09']);
    assert.equal(good.status, 0, good.stderr);
    const path = good.stdout.split(' ')[2]!;
    assert.equal(path, join(dir, 'cli-scorecards', '2026-03-09', 'scorecard-FR-2026-03-09.pdf'));
    assert.match(pdfText(path), /36\.00 EUR/);
    assert.ok(readFileSync(path).subarray(0, 5).equals(Buffer.from('%PDF-')));
    const region = cli(['--region', 'fr', '--date', '2026-03-09']);
    assert.equal(region.status, 2);
    assert.match(region.stderr, /--region must be an ISO 3166-1 alpha-2 code/);
    const date = cli(['--region', 'FR', '--date', '2026-13-01']);
    assert.equal(date.status, 2);
    assert.match(date.stderr, /--date must be a calendar date/);
  });
});

describe('alerts against the forecast band', () => {
  // The 1h window at 12:30 is 11:30–12:30; its forecast is the same hour yesterday.
  const AT = new Date('2026-03-10T12:30:00Z');
  let pulse: TestPulse;
  let http: Awaited<ReturnType<typeof startHttpReceiver>>;
  const dir = mkdtempSync(join(tmpdir(), 'pulse-forecast-alerts-'));

  before(async () => {
    http = await startHttpReceiver();
    const problems: string[] = [];
    const alerts = parseAlertsConfig(
      {
        evaluate_every: '100ms',
        channels: [{ name: 'hook', type: 'webhook', url: `${http.url}/hook`, secret: SECRET }],
        band_rules: { enabled: false },
        rules: [
          {
            id: 'revenue-forecast',
            kpi: 'net_revenue',
            window: '1h',
            condition: 'outside_forecast',
            severity: 'critical',
            // Between a refresh's commit and the swap of the live values, the forecast (read from
            // the warehouse) can be a step ahead of the value: a for-duration rides over that instant.
            for: '1s',
            cooldown: '1h',
            channels: ['hook'],
          },
        ],
        delivery: { attempts: 3, backoff: '50ms', timeout: '15s' },
      },
      problems,
    );
    assert.deepEqual(problems, []);
    pulse = await startTestPulse({ dir, now: () => AT, refreshDebounceMs: 10, alerts });
  });

  after(async () => {
    await pulse?.dispose();
    await http?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays quiet on the forecast and fires outside its band, with the forecast in the alert', async () => {
    // One order of 2 × 10 − 2 tax = 18 EUR at 12:05 on each of the 8 days up to today: every hourly
    // bucket repeats the one a day earlier, so σ of the seasonal differences is 0 and the band is
    // exactly 18 EUR. Today so far (11:30–12:30): 18 EUR, on the forecast.
    const days = ['03', '04', '05', '06', '07', '08', '09', '10'];
    const history = days.map((d) => order(`F-${d}`, `2026-03-${d}T12:05:00Z`, 'FR', 2));
    // The history's live values come 1.5 s after its commit, as on a loaded machine: all that time
    // the forecast (read from the warehouse) holds the history and the live hour does not, and a
    // rule judging one against the other would fire with 0 EUR after its for-duration of 1 s.
    const recompute = pulse.live.recompute.bind(pulse.live);
    pulse.live.recompute = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return recompute(...args);
    };
    assert.equal((await pulse.post(ndjson(history), 'application/x-ndjson')).status, 200);
    const state = async () => {
      const body = (await (await pulse.fetch(`${pulse.url}/v1/alerts?rule=revenue-forecast`)).json()) as {
        rules: { rule_id: string; last_assessment: string; last_metric: number | null; state: string }[];
        events: { transition: string }[];
      };
      return { rule: body.rules.find((r) => r.rule_id === 'revenue-forecast')!, events: body.events };
    };
    const deadline = Date.now() + 30_000;
    let quiet = await state();
    while (!(quiet.rule.last_assessment === 'ok' && quiet.rule.last_metric === 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      quiet = await state();
    }
    assert.equal(quiet.rule.last_assessment, 'ok', JSON.stringify(quiet.rule));
    assert.equal(quiet.rule.last_metric, 0);
    assert.equal(quiet.rule.state, 'ok');
    assert.deepEqual(
      quiet.events.filter((e) => e.transition === 'firing'),
      [],
    );

    pulse.live.recompute = recompute;
    // Four more orders in the hour: 5 × 18 = 90 EUR, far outside a band of one value.
    const burst = [1, 2, 3, 4].map((i) => order(`F-burst-${i}`, '2026-03-10T12:10:00Z', 'FR', 2));
    assert.equal((await pulse.post(ndjson(burst), 'application/x-ndjson')).status, 200);
    const [hook] = await http.waitFor('/hook', 1);
    const alert = (JSON.parse(hook!.body) as { alert: Record<string, unknown> }).alert;
    assert.equal(alert.rule_id, 'revenue-forecast', JSON.stringify(alert));
    assert.equal(Number(alert.value), 90, JSON.stringify(alert));
    assert.equal(alert.transition, 'firing');
    assert.equal(alert.level, 'critical');
    assert.equal(alert.metric_kind, 'forecast');
    assert.equal(Number(alert.value), 90);
    assert.deepEqual(alert.expected, { value: 18, lower: 18, upper: 18 });
    assert.match(String((alert.band as { describe: string }).describe), /80 % forecast band/);
  });
});

async function waitForAlerts<T>(
  pulse: TestPulse,
  pick: (events: { transition: string; deliveries: unknown }[]) => T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await pulse.fetch(`${pulse.url}/v1/alerts?rule=conv-web`);
    const body = (await response.json()) as { events: { transition: string; deliveries: unknown }[] };
    const found = pick(body.events);
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`alerts never matched: ${JSON.stringify(body.events).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
