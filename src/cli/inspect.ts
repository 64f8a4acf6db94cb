import type { InspectionEvent } from 'xstate';
import { HastateError } from '../errors.ts';

/**
 * Connects a running node's actor system to the Stately inspector. `@statelyai/inspect` is an
 * optional package, loaded only when asked for, so plain installs stay small.
 *  - no URL: Stately's hosted ("sky") inspector; it prints a live inspection URL
 *  - a ws:// URL: a WebSocket inspector server of your own
 */
export async function loadInspector(url: string | undefined): Promise<(event: InspectionEvent) => void> {
  const specifier = '@statelyai/inspect';
  let mod: Record<string, (...args: unknown[]) => { inspect: (event: InspectionEvent) => void }>;
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (error) {
    throw new HastateError(
      'HASTATE_CLI_USAGE',
      `--inspect needs the optional package @statelyai/inspect (${(error as Error).message.split('\n')[0]}); install it with: npm install @statelyai/inspect`,
    );
  }
  if (url !== undefined) {
    if (!/^wss?:\/\//.test(url)) throw new HastateError('HASTATE_CLI_USAGE', `--inspect-url must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
    return mod.createWebSocketInspector!({ url }).inspect;
  }
  const create = mod.createSkyInspector;
  if (create === undefined) throw new HastateError('HASTATE_CLI_USAGE', 'this version of @statelyai/inspect has no createSkyInspector; pass --inspect-url ws://...');
  return create({ onerror: (e: unknown) => process.stderr.write(`inspector: ${String(e)}\n`) }).inspect;
}
