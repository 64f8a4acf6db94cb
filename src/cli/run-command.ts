import type { InspectionEvent } from 'xstate';
import { HastateError } from '../errors.ts';
import type { HastateConfig } from '../config/index.ts';
import { createLogger } from '../runtime/log.ts';
import { HaNode } from '../runtime/node.ts';
import { statusService } from '../services/status-server.ts';
import { isLoopbackHost } from '../services/status-auth.ts';
import { countNotifyHookFailure, createNodeMetrics, type NodeMetrics } from '../runtime/metrics.ts';
import { createNotifier, KILL_GRACE_MS } from '../runtime/notify.ts';
import type { ServiceDefinition } from '../services/types.ts';
import { referenceServices } from '../reference/index.ts';
import type { ReferenceConfig } from '../reference/config.ts';
import { LEASE_DIAGRAM_PATH } from '../web/live-view.ts';
import { electionMachineFor } from '../backends/index.ts';

/** Bound on shutdown: services get this long to stop, then the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 5_000;
/** Bound on waiting for a running notify hook at shutdown (inside the hard stop below). */
const NOTIFY_STOP_DEADLINE_MS = 500;
/** Bound on the notify.stop hook: notify.timeout_seconds, but never longer than this, so shutdown stays bounded. */
const STOP_HOOK_MAX_MS = 5_000;
/**
 * The longest a stop can take from the first SIGTERM to exit, whatever the configuration: services,
 * a running hook, notify.stop at its cap, its kill grace, and 2 s of margin. The systemd unit's
 * TimeoutStopSec must exceed this (test/deploy/systemd-unit.test.ts checks it).
 */
export const HARD_STOP_BOUND_MS = SHUTDOWN_DEADLINE_MS + NOTIFY_STOP_DEADLINE_MS + STOP_HOOK_MAX_MS + KILL_GRACE_MS + 2_000;

/** Runs one node until SIGINT/SIGTERM; resolves with the exit code. */
export interface RunOptions {
  human?: boolean | undefined;
  services?: ServiceDefinition[];
  inspect?: ((event: InspectionEvent) => void) | undefined;
}

/** `config.reference` (the reference application's keys) is there when they were loaded (appKeys: REFERENCE_KEYS), as the CLI does. */
export function runNode(config: HastateConfig & Partial<ReferenceConfig>, opts: RunOptions = {}): Promise<number> {
  const logger = createLogger({ level: config.log.level, ...(opts.human === undefined ? {} : { human: opts.human }) });
  const services: ServiceDefinition[] = [...(opts.services ?? [])];
  let node: HaNode | null = null;
  let metrics: NodeMetrics | null = null;
  if (config.status.enabled) {
    services.unshift(
      statusService({
        host: config.status.host,
        port: config.status.port,
        getStatus: () => node!.status(),
        getMetrics: () => metrics!.render(),
        onResign: () => node!.resign(),
        token: config.status.token,
        subscribe: (listener) => node!.onRoleChange(listener),
        // The live view highlights states of the machine this node runs.
        ...(electionMachineFor(config) === 'lease' ? { diagramSvgPath: LEASE_DIAGRAM_PATH } : {}),
        onListening: (a) => {
          logger.info({ host: a.host, port: a.port }, `status endpoint on http://${a.host}:${a.port}/status`);
          if (config.status.token === null && !isLoopbackHost(a.host)) {
            logger.warn({ host: a.host }, 'status endpoint listens beyond loopback without a token: POST /resign is served to loopback peers only; set status.token_file or status.token_env to allow it remotely');
          }
        },
      }),
    );
  }
  if (config.reference?.enabled === true) services.push(...referenceServices({ ...config, reference: config.reference }));
  node = new HaNode({ config, logger, services, ...(opts.inspect ? { inspect: opts.inspect } : {}) });
  metrics = createNodeMetrics(node);
  const running = node;
  const notifier = createNotifier({
    config: config.notify,
    nodeId: config.ha.nodeId,
    log: logger,
    onFailure: (result) => countNotifyHookFailure(running, result.kind),
  });
  node.onRoleChange((change) => notifier.onRoleChange(change));

  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    logger.fatal({ err: error }, 'unhandled rejection; exiting');
    process.exit(1);
  });

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      const stopHookMs = Math.min(config.notify.timeoutMs, STOP_HOOK_MAX_MS);
      const hardStop = setTimeout(() => {
        logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown deadline passed; exiting');
        process.exit(1);
      }, HARD_STOP_BOUND_MS - STOP_HOOK_MAX_MS + stopHookMs);
      hardStop.unref();
      // The role the node stops in, for notify.stop (after stop() a primary has already handed over).
      const last = running.status();
      running.stop(SHUTDOWN_DEADLINE_MS).then(async () => {
        metrics?.stop();
        // A hook started by the last role change (e.g. notify.standby on resign) may finish.
        await notifier.stop(NOTIFY_STOP_DEADLINE_MS);
        await notifier.runStop({ from: last.role, epoch: running.status().epoch, primaryId: last.primaryId, reason: `node stopped (${signal})` }, stopHookMs);
        logger.info('stopped');
        resolve(0);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      running.start();
    } catch (error) {
      // The durable epoch cannot be read or locked: starting at a lower epoch is never an option.
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      metrics?.stop();
      const message = error instanceof Error ? error.message : String(error);
      logger.fatal({ err: error, code: error instanceof HastateError ? error.code : undefined }, `cannot start: ${message}`);
      process.stderr.write(`hastate: cannot start: ${message}\n`);
      resolve(error instanceof HastateError ? 2 : 1);
    }
  });
}
