import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';

export const NATS_SERVER_BIN = process.env.PULSE_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

/** Why a private nats-server cannot be started here, or undefined. Under CI=true: a failure. */
export function natsServerMissing(): string | undefined {
  if (existsSync(NATS_SERVER_BIN)) return undefined;
  const reason = `${NATS_SERVER_BIN} is not installed`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: NATS tests must run)`);
  return reason;
}

/**
 * A nats-server of this test's own (JetStream, file store in `storeDir`), so an outage can be
 * staged without touching the shared server others use.
 */
export class PrivateNatsServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      NATS_SERVER_BIN,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 30_000;
    while (!(await accepts(this.port))) {
      if (this.child.exitCode !== null) throw new Error(`nats-server exited with ${this.child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Kills the server as a crash would (SIGKILL) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
