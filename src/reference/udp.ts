/**
 * A UDP socket joined to a multicast group, for the reference services. Several nodes on one
 * host share the port (SO_REUSEADDR), so each receives every datagram; it binds and joins as
 * the heartbeat transport does (src/transport/group-socket.ts: TTL 1, loopback on).
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { HastateError } from '../errors.ts';
import { groupBindOptions, joinGroup } from '../transport/group-socket.ts';
import type { Parsed } from './protocol.ts';

export interface GroupSocketOptions {
  group: string;
  port: number;
  interfaceAddress: string;
  onMessage: (data: Buffer, from: dgram.RemoteInfo) => void;
  onError: (error: Error) => void;
}

/** Resolves once bound and joined; rejects (and closes the socket) if either fails. */
export function openGroupSocket(opts: GroupSocketOptions): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    let ready = false;
    s.on('error', (error) => {
      if (ready) opts.onError(error);
      else {
        s.close();
        reject(error);
      }
    });
    s.on('message', opts.onMessage);
    s.once('listening', () => {
      try {
        joinGroup(s, opts.group, opts.interfaceAddress);
      } catch (error) {
        s.close();
        reject(new HastateError('HASTATE_TRANSPORT', `cannot join ${opts.group} on ${opts.interfaceAddress}: ${(error as Error).message}`, { cause: error }));
        return;
      }
      ready = true;
      resolve(s);
    });
    s.bind(groupBindOptions(opts.group, opts.port));
  });
}

export function closeQuietly(s: dgram.Socket | null): void {
  if (s === null) return;
  s.removeAllListeners('message');
  s.on('error', () => {});
  try {
    s.close();
  } catch {
    // already closed
  }
}

/** What a reference service counts of the datagrams it receives (part of its status). */
export interface DatagramCounters {
  received: number;
  /** Invalid datagrams by the parser's reason. */
  invalid: Record<string, number>;
}

/**
 * The receive side the reference group services share: counts every datagram, parses it,
 * counts an invalid one by reason and logs it at debug as `${what}: detail` (a stray sender
 * must not flood the log), and hands a valid one to `onValid`.
 */
export function parsedDatagrams<T>(
  parse: (data: Buffer) => Parsed<T>,
  counters: DatagramCounters,
  log: Logger,
  what: string,
  onValid: (value: T, from: dgram.RemoteInfo) => void,
): (data: Buffer, from: dgram.RemoteInfo) => void {
  return (data, from) => {
    counters.received++;
    const parsed = parse(data);
    if (!parsed.ok) {
      counters.invalid[parsed.reason] = (counters.invalid[parsed.reason] ?? 0) + 1;
      log.debug({ from: `${from.address}:${from.port}`, reason: parsed.reason }, `${what}: ${parsed.detail}`);
      return;
    }
    onValid(parsed.value, from);
  };
}
