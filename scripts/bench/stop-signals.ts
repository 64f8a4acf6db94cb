/**
 * How a benchmark ends on SIGINT, SIGTERM or SIGHUP: `stop` runs once (it may be async), then
 * the process exits with 128 + the signal's number, as a shell reports it. Handlers use `on`,
 * not `once`: tsx and npx relay the signal too, and a second one handled by the default action
 * would kill the process half-way through the cleanup.
 */
import { constants } from 'node:os';

export function onStopSignal(stop: (signal: NodeJS.Signals) => void | Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void Promise.resolve()
        .then(() => stop(signal))
        .finally(() => process.exit(128 + constants.signals[signal]));
    });
  }
}
