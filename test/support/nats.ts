import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The shared NATS JetStream server the tests use (others run tests against it at the same time). */
export const NATS_URL = process.env.PULSE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * Why NATS tests cannot run here, or undefined when they can. Under CI=true a missing server is a
 * failure, never a silent skip.
 */
export async function natsMissing(url = NATS_URL): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (reachable) return undefined;
  const reason = `NATS JetStream is not reachable at ${url}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: NATS tests must run)`);
  return reason;
}

/** Unique stream, subject and consumer names for one test run. */
export function uniqueNatsNames(label: string): { stream: string; subject: string; durable: string } {
  const tag = `${label}_${process.pid}_${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9_]/g, '_');
  return { stream: `PULSE_TEST_${tag}`, subject: `pulse-test.${tag}`, durable: `worker_${tag}` };
}

export async function connectTestNats(url = NATS_URL): Promise<NatsConnection> {
  return connect({ servers: url, name: 'pulse-test' });
}

/** Deletes a test stream (and with it its consumers); a stream already gone is fine. */
export async function deleteStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => false);
}
