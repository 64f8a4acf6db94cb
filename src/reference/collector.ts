/**
 * Data collector: on every node, in every role, refresh boards and stacks from the API every
 * interval (seed section 4). A standby that takes over therefore already holds fresh data and
 * needs no warm-up. Failures keep the previous data and are counted; status flags data older
 * than `staleAfterMs`.
 */
import { defineService, type ServiceDefinition } from '../services/types.ts';
import type { ApiClient } from './api-client.ts';
import type { Repository } from './repository.ts';

export interface CollectorOptions {
  repo: Repository;
  api: ApiClient;
  intervalMs: number;
}

export function dataCollector(opts: CollectorOptions): ServiceDefinition {
  let timer: NodeJS.Timeout | null = null;
  let inFlight = false;
  const counters = { collections: 0, failures: 0, skipped: 0, lastError: null as string | null };

  return defineService({
    name: 'data-collector',
    start(ctx) {
      const collect = async () => {
        if (inFlight) {
          counters.skipped++;
          return;
        }
        inFlight = true;
        try {
          const [boards, stacks] = await Promise.all([opts.api.getBoards(ctx.signal), opts.api.getStacks(ctx.signal)]);
          opts.repo.replace(boards, stacks);
          counters.collections++;
        } catch (error) {
          if (ctx.signal.aborted) return;
          counters.failures++;
          counters.lastError = (error as Error).message;
          ctx.log.warn({ dataAgeMs: opts.repo.dataAgeMs() }, `collection failed, keeping previous data: ${(error as Error).message}`);
        } finally {
          inFlight = false;
        }
      };
      timer = setInterval(() => void collect(), opts.intervalMs);
      void collect();
    },
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
    status: () => ({
      ...counters,
      dataAgeMs: opts.repo.dataAgeMs(),
      stale: opts.repo.isStale(),
      boards: opts.repo.boards.length,
      stacks: opts.repo.stacks.length,
      api: { ...opts.api.counters },
    }),
  });
}
