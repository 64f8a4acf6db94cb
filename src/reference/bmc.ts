/**
 * BMC receiver (seed 2.2.4): BMC status datagrams arrive on a multicast group at every node;
 * only the primary processes them into the repository. A standby receives and drops, so its
 * socket is already joined when it takes over.
 */
import type dgram from 'node:dgram';
import { defineService, type ServiceDefinition } from '../services/types.ts';
import { parseBmcStatus } from './protocol.ts';
import type { Repository } from './repository.ts';
import { closeQuietly, openGroupSocket, parsedDatagrams } from './udp.ts';

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
        onMessage: parsedDatagrams(parseBmcStatus, counters, ctx.log, 'invalid BMC datagram', (status) => {
          if (!ctx.isPrimary()) {
            counters.droppedAsStandby++;
            return;
          }
          opts.repo.noteBmc(status);
          counters.processed++;
        }),
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
