/**
 * Runs the STAND-IN for the reference application's external API (not part of hastate).
 * Usage: npm run api-stand-in [-- --port 9400 --host 127.0.0.1]
 */
import { parseArgs } from 'node:util';
import { startApiStandIn } from '../src/reference/api-stand-in.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '9400' }, host: { type: 'string', default: '127.0.0.1' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`api-stand-in: --port must be an integer 0..65535, got ${JSON.stringify(values.port)}\n`);
  process.exit(2);
}
const standIn = await startApiStandIn({ host: values.host, port });
process.stdout.write(`API stand-in (not part of hastate) on ${standIn.url}: GET /boards /stacks, POST /keepalive /alerts\n`);
const stop = () => void standIn.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
