/**
 * The README's service example, as a file that type-checks and runs (a test checks that the
 * README shows this file and runs it as a real node):
 *
 *   npx tsx examples/hello-service.ts examples/node-a.yaml
 */
import { createLogger, defineService, HaNode, loadConfig } from '../src/index.ts';

// Runs on every node in every role; does its work only while this node is primary.
const hello = defineService({
  name: 'hello',
  onRoleChange({ to, epoch }, ctx) {
    if (to !== 'primary') return;
    const timer = setInterval(() => ctx.log.info({ epoch }, 'hello from the primary'), 1_000);
    // Aborted the moment this node stops being primary, before the next hook runs.
    ctx.primarySignal().addEventListener('abort', () => clearInterval(timer), { once: true });
  },
  status: () => ({ greeting: 'hello' }), // this service's part of node.status()
});

const config = loadConfig({ file: process.argv[2] ?? 'examples/node-a.yaml' });
const node = new HaNode({ config, logger: createLogger({ level: 'info' }), services: [hello] });
node.start();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void node.stop().then(() => process.exit(0)));
}
