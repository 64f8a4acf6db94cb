/**
 * The floor of `npm run bench:idle`: the least a Node.js process can do and still behave like
 * an idle hastate node on the wire. Plain node, node:dgram only: it joins the multicast group,
 * sends one datagram of hastate's size (52 bytes) every interval, and reads (and discards)
 * everything the group delivers. Whatever hastate spends above this is hastate's own cost.
 *
 * Usage: node scripts/bench/floor.mjs --group 239.x.y.z --port N --interface 127.0.0.1 --interval-ms 100
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    group: { type: 'string' },
    port: { type: 'string' },
    interface: { type: 'string', default: '127.0.0.1' },
    'interval-ms': { type: 'string' },
  },
});

function required(name, check, what) {
  const raw = values[name];
  if (raw === undefined || !check(raw)) {
    process.stderr.write(`floor.mjs: --${name} must be ${what}, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return raw;
}

const isInt = (min, max) => (s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max;
const group = required('group', (s) => /^\d+\.\d+\.\d+\.\d+$/.test(s), 'an IPv4 multicast address');
const port = Number(required('port', isInt(1, 65535), 'a port number (1..65535)'));
const intervalMs = Number(required('interval-ms', isInt(1, 3_600_000), 'an interval in ms (1..3600000)'));
const iface = required('interface', (s) => /^\d+\.\d+\.\d+\.\d+$/.test(s), 'an IPv4 interface address');

// The same size as a hastate datagram; content is irrelevant (hastate drops it by magic).
const datagram = Buffer.alloc(52);
let received = 0;
const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
socket.on('error', (error) => {
  process.stderr.write(`floor.mjs: socket error: ${error.message}\n`);
  process.exit(1);
});
socket.on('message', () => {
  received++;
});
socket.bind({ port, address: process.platform === 'linux' ? group : undefined, exclusive: false }, () => {
  socket.addMembership(group, iface);
  socket.setMulticastInterface(iface);
  socket.setMulticastTTL(1);
  socket.setMulticastLoopback(true);
  setInterval(() => socket.send(datagram, port, group), intervalMs);
  process.stdout.write('floor: up\n');
});
const stop = () => {
  process.stdout.write(`floor: received ${received}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
