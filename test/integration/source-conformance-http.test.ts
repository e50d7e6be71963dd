import { HttpSource } from '../../src/sources/index.js';
import { runSourceConformance } from '../support/source-conformance.js';

/** The HTTP source: each `send` is one NDJSON request, retried while the source restarts. */
runSourceConformance('http', async () => {
  let port = 0;
  const created: HttpSource[] = [];
  return {
    createSource() {
      const source = new HttpSource({
        host: '127.0.0.1',
        port,
        bodyLimitBytes: 1024 * 1024,
        maxBatchEvents: 1000,
      });
      created.push(source);
      return {
        kind: source.kind,
        async start(deliver) {
          await source.start(deliver);
          // Later instances listen on the same port, as a restarted server does.
          port = Number(new URL(source.url).port);
        },
        stop: () => source.stop(),
      };
    },
    async send(lines) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body: lines.join('\n'),
          });
          await response.arrayBuffer();
          // 200 (stored) and 422 (all quarantined) are answers after the commit; 503 is "come back".
          if (response.status === 200 || response.status === 422) return;
          if (response.status !== 503) throw new Error(`unexpected HTTP ${response.status}`);
        } catch (error) {
          // Refused while the source restarts: a producer retries, and a retry is only a duplicate.
          if (attempt > 200 || (error as Error).message.startsWith('unexpected')) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async dispose() {
      for (const source of created) await source.stop();
    },
  };
});
