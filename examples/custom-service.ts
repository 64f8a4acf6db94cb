/**
 * A service to copy: an HTTP endpoint that every node serves, where only the primary does the
 * work, plus a leader-only periodic job. Run it as a node:
 *
 *   npx tsx examples/custom-service.ts examples/node-a.yaml 8081
 *
 * and test it like test/examples/custom-service.test.ts does, with `serviceHarness`.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { createLogger, defineService, HaNode, leaderJobs, loadConfig, primaryGate, type ServiceDefinition } from '../src/index.ts';

/**
 * Counts work items. The primary gate answers 503 NOT_PRIMARY (naming the primary) on a
 * standby and 503 SWITCHING_OVER with Retry-After during an election; the handler runs only
 * on the primary.
 */
export function counterService(port: number): ServiceDefinition & { total(): number } {
  let server: http.Server | null = null;
  let total = 0;
  const gate = primaryGate({ retryAfterMs: 1_000 });
  const service = defineService({
    name: 'counter',
    // Runs on every node, in every role: the socket is ready before a takeover.
    start(ctx) {
      return new Promise<void>((resolve, reject) => {
        server = http.createServer(
          gate.guard(ctx, (_req, res, { epoch, fence }) => {
            total++;
            // `fence` holds Hastate-Epoch/Hastate-Node: add it to any write this request sends on.
            res.writeHead(200, { 'content-type': 'application/json', ...fence });
            res.end(JSON.stringify({ total, epoch }));
          }),
        );
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
    },
    onRoleChange({ from, to, epoch }, ctx) {
      ctx.log.info({ from, to, epoch }, 'counter sees a role change');
    },
    stop() {
      server?.close();
      server?.closeAllConnections();
    },
    status: () => ({ total, gate: gate.counters() }),
  });
  return Object.assign(service, { total: () => total });
}

/** A primary-only job: cancelled through its signal the moment the node stops being primary. */
export const reportJob = leaderJobs({
  name: 'report',
  onStartedLeading: ({ epoch }, ctx) => ctx.log.info({ epoch }, 'now leading: reports start'),
  onStoppedLeading: ({ to }, ctx) => ctx.log.info({ to }, 'no longer leading: reports stopped'),
  primaryTask: {
    intervalMs: 5_000,
    run: async (signal, { epoch }, ctx) => {
      // Pass `signal` to anything that can take it (fetch, timers, database clients).
      await new Promise((resolve) => setTimeout(resolve, 10, { signal }));
      ctx.log.info({ epoch }, 'report written');
    },
  },
});

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, portText] = process.argv.slice(2);
  const port = Number(portText ?? 8081);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port must be 1..65535, got ${JSON.stringify(portText)}`);
  const config = loadConfig(file === undefined ? {} : { file });
  const node = new HaNode({ config, logger: createLogger({ level: 'info' }), services: [counterService(port), reportJob] });
  node.start();
  process.once('SIGINT', () => void node.stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)));
}
