import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { NatsSource } from '../../src/sources/nats/index.js';
import { connectTestNats, deleteStream, NATS_URL, natsMissing, uniqueNatsNames } from '../support/nats.js';
import { runSourceConformance } from '../support/source-conformance.js';
import { describe, it } from 'node:test';

/** The NATS source: each line is one message published to the stream; `send` resolves on the publish acks. */
const missing = await natsMissing();
if (missing) {
  describe('source conformance: nats', () => {
    it('needs NATS JetStream', { skip: missing }, () => undefined);
  });
} else {
  runSourceConformance('nats', async () => {
    const names = uniqueNatsNames('conformance');
    const nc: NatsConnection = await connectTestNats();
    const js = jetstream(nc);
    const jsonHeaders = headers();
    jsonHeaders.set('content-type', 'application/cloudevents+json');
    return {
      createSource: () =>
        new NatsSource({
          servers: [NATS_URL],
          stream: names.stream,
          subjects: [`${names.subject}.>`],
          durable: names.durable,
          createStream: true,
          replicas: 1,
          batch: 50,
          maxAckPending: 200,
          // Short, so a batch lost with a stopped instance comes back quickly.
          ackWaitMs: 2_000,
          nakDelayMs: 200,
        }),
      async send(lines) {
        // The source creates the stream on its first start; the harness only publishes after that.
        await Promise.all(
          lines.map((line) => js.publish(`${names.subject}.events`, line, { headers: jsonHeaders })),
        );
      },
      async dispose() {
        await deleteStream(nc, names.stream);
        await nc.close();
      },
    };
  });
}
