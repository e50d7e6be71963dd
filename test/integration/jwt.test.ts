import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';
import { closedPort, startLocalServer, type LocalServer } from '../support/http-server.js';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'pulse-api';
const WINDOW = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';

function marketplaceOrder(orderId: string, sellerId: string, unitPrice: number) {
  const event = orderEvent({ orderId, unitPrice, quantity: 1 });
  return { ...event, data: { ...event.data, channel: 'marketplace', seller_id: sellerId } };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Bearer JWTs verified against a JWKS served over HTTP', () => {
  let pulse: TestPulse;
  let jwks: LocalServer;
  let signing: { privateKey: CryptoKey; publicKey: CryptoKey };
  let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
  let publicJwk: JWK;

  const sign = (
    claims: Record<string, unknown>,
    options: { key?: CryptoKey; kid?: string; exp?: number | string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.key ?? signing.privateKey);

  const get = (path: string, token: string) =>
    fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  async function refused(token: string, code: string, path = '/v1/kpis') {
    const answer = await get(path, token);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    assert.equal(answer.status, 401, `${code}: ${JSON.stringify(body)}`);
    assert.equal(body.error.code, code, body.error.message);
    assert.match(answer.headers.get('www-authenticate') ?? '', /invalid_token/);
    return body.error.message;
  }

  before(async () => {
    signing = await generateKeyPair('ES256', { extractable: true });
    stranger = await generateKeyPair('ES256', { extractable: true });
    publicJwk = { ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = await startLocalServer((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [publicJwk] }));
    });
    pulse = await startTestPulse({
      jwt: {
        jwksUrl: `${jwks.url}/.well-known/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
        rolesClaim: 'pulse_roles',
        sellerClaim: 'seller_id',
        algorithms: ['ES256', 'RS256'],
        clockToleranceS: 0,
      },
    });
    // Line net = price − 2.00 tax: S1 100.00 → 98.00, S2 300.00 → 298.00; together 396.00.
    const stored = await pulse.post(
      JSON.stringify([marketplaceOrder('J-1', 'S1', 100), marketplaceOrder('J-2', 'S2', 300)]),
      'application/cloudevents-batch+json',
    );
    assert.equal(stored.body.accepted, 2);
    await pulse.refresh();
  });
  after(async () => {
    await pulse?.dispose();
    await jwks?.close();
  });

  it('lets a valid token act with the roles of its claim, like an API key', async () => {
    const reader = await sign({ pulse_roles: ['read', 'some-idp-role'] });
    const kpis = await get(`/v1/kpis/net_revenue?${WINDOW}`, reader);
    assert.equal(kpis.status, 200);
    assert.equal(((await kpis.json()) as { value: string }).value, '396.00');
    assert.equal((await get('/metrics', reader)).status, 200);
    const post = await fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(orderEvent({ orderId: 'J-3' })),
    });
    assert.equal(post.status, 403, 'read may not ingest');
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'PULSE_ERR_FORBIDDEN');

    const ingester = await sign({ pulse_roles: 'ingest' }); // a space-separated string works too
    const ingest = await fetch(`${pulse.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingester}`, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(orderEvent({ orderId: 'J-4' })),
    });
    assert.equal(ingest.status, 200);
    assert.equal((await get('/v1/kpis', ingester)).status, 403);
    assert.equal((await get('/v1/keys', reader)).status, 403, 'only admins manage keys');

    const admin = await sign({ pulse_roles: ['admin'] });
    assert.equal((await get('/v1/keys', admin)).status, 200);

    const nobody = await sign({ pulse_roles: ['superuser'] });
    assert.equal((await get('/v1/kpis', nobody)).status, 403, 'roles Pulse does not know grant nothing');
  });

  it('refuses expired, not-yet-valid, wrong-issuer and wrong-audience tokens, naming the check', async () => {
    const expired = await sign({ pulse_roles: ['read'] }, { exp: Math.floor(Date.now() / 1000) - 3600 });
    assert.match(await refused(expired, 'PULSE_ERR_TOKEN_EXPIRED'), /expired/);
    const early = await new SignJWT({ pulse_roles: ['read'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setNotBefore('1h')
      .setExpirationTime('2h')
      .sign(signing.privateKey);
    assert.match(await refused(early, 'PULSE_ERR_TOKEN_CLAIM_INVALID'), /"nbf"/);
    const issuer = await new SignJWT({ pulse_roles: ['read'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://evil.test/')
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(signing.privateKey);
    assert.match(await refused(issuer, 'PULSE_ERR_TOKEN_CLAIM_INVALID'), /"iss"/);
    const audience = await new SignJWT({ pulse_roles: ['read'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('another-api')
      .setExpirationTime('5m')
      .sign(signing.privateKey);
    assert.match(await refused(audience, 'PULSE_ERR_TOKEN_CLAIM_INVALID'), /"aud"/);
    const noExpiry = await new SignJWT({ pulse_roles: ['read'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(signing.privateKey);
    assert.match(await refused(noExpiry, 'PULSE_ERR_TOKEN_CLAIM_INVALID'), /"exp"/);
  });

  it('refuses forged tokens: wrong key, alg none, HS256 keyed with the public key, tampered payload, unknown kid', async () => {
    const wrongKey = await sign({ pulse_roles: ['admin'] }, { key: stranger.privateKey });
    assert.match(await refused(wrongKey, 'PULSE_ERR_TOKEN_INVALID'), /signature/);

    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: now + 300, pulse_roles: ['admin'] };
    await refused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'PULSE_ERR_TOKEN_INVALID');
    await refused(`${b64({ alg: 'none', kid: 'k1' })}.${b64(claims)}.`, 'PULSE_ERR_TOKEN_INVALID');

    // The classic confusion attack: an HMAC "signed" with the public key a verifier might use as secret.
    const pem = await exportSPKI(signing.publicKey);
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const hs256 = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(new TextEncoder().encode(secret));
      assert.match(await refused(hs256, 'PULSE_ERR_TOKEN_INVALID'), /algorithm not allowed/);
    }

    const valid = await sign({ pulse_roles: ['read'] });
    const [header, , signature] = valid.split('.');
    const promoted = `${header}.${b64({ ...claims, pulse_roles: ['admin'] })}.${signature}`;
    assert.match(await refused(promoted, 'PULSE_ERR_TOKEN_INVALID'), /signature/);

    const unknownKid = await sign({ pulse_roles: ['read'] }, { kid: 'k-rotated-away' });
    assert.match(await refused(unknownKid, 'PULSE_ERR_TOKEN_UNKNOWN_KEY'), /kid/);

    await refused('aaa.bbb.ccc', 'PULSE_ERR_TOKEN_INVALID');
    // Still a Pulse API key path when the token is not JWT-shaped.
    const notJwt = await get('/v1/kpis', 'let-me-in');
    assert.equal(
      ((await notJwt.json()) as { error: { code: string } }).error.code,
      'PULSE_ERR_UNAUTHENTICATED',
    );
  });

  it('confines a seller token to its seller rows, over REST and SSE', async () => {
    const seller = await sign({ seller_id: 'S1' });
    const total = (await (await get(`/v1/kpis/net_revenue?${WINDOW}`, seller)).json()) as { value: string };
    assert.equal(total.value, '98.00');
    const bySeller = (await (await get(`/v1/kpis/net_revenue?${WINDOW}&by=seller`, seller)).json()) as {
      breakdown: { key: string; value: string }[];
    };
    assert.deepEqual(
      bySeller.breakdown.map((p) => [p.key, p.value]),
      [['S1', '98.00']],
    );
    assert.equal((await get(`/v1/kpis/conversion_rate?${WINDOW}`, seller)).status, 403);
    const badSeller = await sign({ seller_id: 'S1; DROP TABLE' });
    assert.match(await refused(badSeller, 'PULSE_ERR_TOKEN_CLAIM_INVALID'), /seller_id/);

    const response = await fetch(`${pulse.url}/v1/stream?kpi=net_revenue&window=24h&access_token=${seller}`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const forged = await fetch(
      `${pulse.url}/v1/stream?access_token=${await sign({ seller_id: 'S1' }, { key: stranger.privateKey })}`,
    );
    assert.equal(forged.status, 401);
  });

  it('reports the key set in /readyz without making Pulse unready', async () => {
    const ready = (await (await fetch(`${pulse.url}/readyz`)).json()) as {
      status: string;
      checks: Record<string, { status: string; required: boolean; source: string }>;
    };
    assert.equal(ready.status, 'ready');
    assert.equal(ready.checks.jwks?.status, 'ok');
    assert.equal(ready.checks.jwks?.required, false);
    assert.ok(
      jwks.requests.length >= 1 && jwks.requests.length <= 3,
      `JWKS fetched ${jwks.requests.length} times: cached`,
    );
  });
});

describe('JWT key sets from a file, and an unreachable key set', () => {
  it('verifies against a local JWKS file', async () => {
    const keys = await generateKeyPair('RS256', { extractable: true });
    const dir = mkdtempSync(join(tmpdir(), 'pulse-jwks-'));
    const path = join(dir, 'jwks.json');
    writeFileSync(
      path,
      JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'r1', alg: 'RS256' }] }),
    );
    const pulse = await startTestPulse({
      jwt: {
        jwksFile: path,
        issuer: ISSUER,
        audience: AUDIENCE,
        rolesClaim: 'roles',
        algorithms: ['RS256'],
        clockToleranceS: 0,
      },
    });
    try {
      const token = await new SignJWT({ roles: ['read'] })
        .setProtectedHeader({ alg: 'RS256', kid: 'r1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(keys.privateKey);
      const answer = await fetch(`${pulse.url}/v1/kpis`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 200);
    } finally {
      await pulse.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 when the key set cannot be fetched, and reports it in /readyz while staying ready', async () => {
    const keys = await generateKeyPair('ES256');
    const port = await closedPort();
    const pulse = await startTestPulse({
      jwt: {
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
        rolesClaim: 'roles',
        algorithms: ['ES256'],
        clockToleranceS: 0,
      },
    });
    try {
      const token = await new SignJWT({ roles: ['read'] })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(keys.privateKey);
      const answer = await fetch(`${pulse.url}/v1/kpis`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 503);
      assert.equal(
        ((await answer.json()) as { error: { code: string } }).error.code,
        'PULSE_ERR_JWKS_UNAVAILABLE',
      );
      // API keys keep working: the key set is optional to Pulse as a whole.
      assert.equal((await pulse.fetch(`${pulse.url}/v1/kpis`)).status, 200);
      const ready = await fetch(`${pulse.url}/readyz`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { checks: { jwks: { status: string; error: string } } };
      assert.equal(body.checks.jwks.status, 'failing');
      assert.ok(body.checks.jwks.error.length > 0);
    } finally {
      await pulse.dispose();
    }
  });
});
