/** What one part behind the API says about itself. `status` is `ok`, `failing` or `unknown`. */
export interface HealthCheckResult {
  readonly status: 'ok' | 'failing' | 'unknown';
  readonly [detail: string]: unknown;
}

export interface HealthCheck {
  /**
   * A required part that fails makes Pulse not ready (503): the warehouse, the refresh loop. An
   * optional one (a telemetry exporter, a sink feeding another system) is reported but does not:
   * a load balancer pulling Pulse out because a trace collector is down would turn a loss of
   * telemetry into a loss of service.
   */
  readonly required: boolean;
  readonly check: () => HealthCheckResult | Promise<HealthCheckResult>;
}

/** How long one check may take before it counts as failing: /readyz must answer promptly. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * Every part with a health registers here (the warehouse, the refresh loop, the telemetry exporter,
 * later sinks such as marts or NATS), so `/readyz` reports them all without knowing any of them.
 */
export class HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): () => void {
    if (this.#checks.has(name)) throw new Error(`a health check named "${name}" is already registered`);
    this.#checks.set(name, check);
    return () => this.#checks.delete(name);
  }

  async report(): Promise<{
    ready: boolean;
    checks: Record<string, HealthCheckResult & { required: boolean }>;
  }> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, { required, check }]) => {
        const result = await runCheck(check);
        return [name, { ...result, required }] as const;
      }),
    );
    const ready = entries.every(([, result]) => !result.required || result.status === 'ok');
    return { ready, checks: Object.fromEntries(entries) };
  }
}

async function runCheck(check: HealthCheck['check']): Promise<HealthCheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<HealthCheckResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ status: 'failing', error: `no answer within ${CHECK_TIMEOUT_MS} ms` }),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    return { status: 'failing', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
