/**
 * `hastate farewell`: the leaving declaration for a node whose process has died (see
 * src/runtime/farewell.ts for why it is safe). Prints one JSON line saying what it did.
 * Exit codes: 0 sent, or nothing to do (the line says why); 5 refused because a live process
 * holds the node's state file; 1 the state file could not be read or the send failed.
 */
import { HastateError } from '../errors.ts';
import type { HastateConfig } from '../config/index.ts';
import { farewellNotApplicable, sendFarewell, type FarewellOutcome } from '../runtime/farewell.ts';
import { openFarewellSocket, type OpenFarewellSocket } from '../transport/farewell-socket.ts';
import type { FarewellSocket } from '../runtime/farewell.ts';

export const FAREWELL_REFUSED_EXIT = 5;

/** What a farewell attempt came to, with the exit code the CLI gives it. */
export type FarewellResult = { code: 0; outcome: FarewellOutcome } | { code: 1 | typeof FAREWELL_REFUSED_EXIT; message: string };

/** Runs one farewell on `socket` (opened here when omitted); never throws. */
export async function attemptFarewell(config: HastateConfig, socket?: FarewellSocket): Promise<FarewellResult> {
  const { ha } = config;
  let opened: OpenFarewellSocket | null = null;
  try {
    if (socket === undefined && farewellNotApplicable(config) === null) {
      opened = await openFarewellSocket({ group: ha.multicastGroup, port: ha.heartbeat.port, interfaceAddress: ha.interface });
    }
    const outcome = await sendFarewell(config, { socket: socket ?? opened ?? { send: async () => {} } });
    return { code: 0, outcome };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof HastateError && error.code === 'HASTATE_EPOCH_STORE_LOCKED') {
      return { code: FAREWELL_REFUSED_EXIT, message: `refusing to speak for node ${JSON.stringify(ha.nodeId)}, its process may still be alive: ${message}` };
    }
    return { code: 1, message: `farewell for node ${JSON.stringify(ha.nodeId)} failed: ${message}` };
  } finally {
    opened?.close();
  }
}

export async function runFarewell(config: HastateConfig): Promise<number> {
  const result = await attemptFarewell(config);
  if (result.code === 0) process.stdout.write(`${JSON.stringify(result.outcome)}\n`);
  else process.stderr.write(`hastate: ${result.message}\n`);
  return result.code;
}
