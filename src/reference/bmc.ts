/**
 * BMC receiver (seed 2.2.4): BMC status datagrams arrive on a multicast group at every node;
 * only the primary processes them into the repository. A standby receives and drops, so its
 * socket is already joined when it takes over.
 */
import type dgram from 'node:dgram';
import { defineService, type ServiceDefinition } from '../services/types.ts';
import { parseBmcStatus } from './protocol.ts';
import type { Repository } from './repository.ts';
import { closeQuietly, openGroupSocket } from './udp.ts';

export interface BmcOptions {
  repo: Repository;
  group: string;
  port: number;
  interfaceAddress: string;
}

export function bmcReceiver(opts: BmcOptions): ServiceDefinition {
  let socket: dgram.Socket | null = null;
  const counters = { received: 0, processed: 0, droppedAsStandby: 0, invalid: {} as Record<string, number> };

  return defineService({
    name: 'bmc-receiver',
    async start(ctx) {
      socket = await openGroupSocket({
        group: opts.group,
        port: opts.port,
        interfaceAddress: opts.interfaceAddress,
        onError: (error) => ctx.fail(error),
        onMessage: (data, from) => {
          counters.received++;
          const status = parseBmcStatus(data);
          if (!status.ok) {
            counters.invalid[status.reason] = (counters.invalid[status.reason] ?? 0) + 1;
            ctx.log.debug({ from: `${from.address}:${from.port}`, reason: status.reason }, `invalid BMC datagram: ${status.detail}`);
            return;
          }
          if (!ctx.isPrimary()) {
            counters.droppedAsStandby++;
            return;
          }
          opts.repo.noteBmc(status.value);
          counters.processed++;
        },
      });
      ctx.log.info({ group: opts.group, port: opts.port }, 'BMC receiver listening');
    },
    stop() {
      closeQuietly(socket);
      socket = null;
    },
    status: () => ({ ...counters, invalid: { ...counters.invalid }, boardsReported: opts.repo.bmc.size }),
  });
}
