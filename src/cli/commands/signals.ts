/** Resolves on the first SIGINT or SIGTERM: how the long-running commands wait to be stopped. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
