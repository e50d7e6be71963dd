import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build` puts the dashboard: dist/web beside dist/src. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * The dashboard's own scripts, styles and images only: no inline script, no other origin, no
 * framing. Its data comes from this same API (connect-src 'self').
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the built dashboard under /app/ (index.html for the app's own paths). */
export const dashboardRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const root = options.dir ?? DASHBOARD_DIR;
  if (!existsSync(root)) {
    app.log.warn({ root }, 'the dashboard is not built (npm run build); /app/ answers 404');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    decorateReply: false,
    index: ['index.html'],
    // npm run build writes .br and .gz copies (scripts/compress-web.mjs): sent to clients that accept them.
    preCompressed: true,
    // Hashed asset names change with their content; index.html must always be revalidated.
    cacheControl: false,
    setHeaders: (reply, path) => {
      void reply.header(
        'cache-control',
        path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
  app.get('/app', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
};
