/**
 * Resource monitor listener + broadcaster (seed 2.2.1, 2.2.2): requests arrive on a multicast
 * group; every node receives them, only the primary answers, with a summary built from its
 * repository sent to the group's response port. A standby counts and drops. The role check is
 * `ctx.isPrimary()` at the moment the request is handled, so a node answers from the instant
 * it becomes primary and never after it stops.
 */
import type dgram from 'node:dgram';
import { defineService, type ServiceDefinition } from '../services/types.ts';
import { encodeMonitorResponse, parseMonitorRequest } from './protocol.ts';
import type { Repository } from './repository.ts';
import { closeQuietly, openGroupSocket, parsedDatagrams } from './udp.ts';

export interface MonitorOptions {
  repo: Repository;
  group: string;
  requestPort: number;
  responsePort: number;
  interfaceAddress: string;
}

export function resourceMonitor(opts: MonitorOptions): ServiceDefinition {
  let socket: dgram.Socket | null = null;
  const counters = { received: 0, answered: 0, droppedAsStandby: 0, invalid: {} as Record<string, number>, sendErrors: 0 };

  return defineService({
    name: 'resource-monitor',
    async start(ctx) {
      socket = await openGroupSocket({
        group: opts.group,
        port: opts.requestPort,
        interfaceAddress: opts.interfaceAddress,
        onError: (error) => ctx.fail(error),
        onMessage: parsedDatagrams(parseMonitorRequest, counters, ctx.log, 'invalid monitor request', (req) => {
          const t = ctx.current();
          // isPrimary() also says no once a lease's renew deadline has passed, before the machine notices.
          if (t?.to !== 'primary' || !ctx.isPrimary()) {
            counters.droppedAsStandby++;
            return;
          }
          const response = encodeMonitorResponse({
            requestId: req.requestId,
            nodeId: ctx.nodeId,
            epoch: t.epoch,
            boards: opts.repo.boards.length,
            healthyBoards: opts.repo.healthyBoards(),
            stacks: opts.repo.stacks.length,
            dataAgeMs: opts.repo.dataAgeMs(),
            stale: opts.repo.isStale(),
          });
          socket?.send(response, opts.responsePort, opts.group, (error) => {
            if (error) counters.sendErrors++;
            else counters.answered++;
          });
        }),
      });
      ctx.log.info({ group: opts.group, port: opts.requestPort }, 'resource monitor listening');
    },
    stop() {
      closeQuietly(socket);
      socket = null;
    },
    status: () => ({ ...counters, invalid: { ...counters.invalid } }),
  });
}
