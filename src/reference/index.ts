/**
 * The reference application: the seed design's business services on the public service API.
 * Every service runs on every node in every role and decides per role what to do; they share
 * one repository per node. Enable with `reference.enabled: true`, or compose them yourself.
 * Its keys (`reference.*`) are declared in config.ts; load them with `appKeys: REFERENCE_KEYS`.
 */
import type { HastateConfig } from '../config/index.ts';
import type { ServiceDefinition } from '../services/types.ts';
import { alertReceiver } from './alerts.ts';
import { ApiClient } from './api-client.ts';
import { bmcReceiver } from './bmc.ts';
import { dataCollector } from './collector.ts';
import { resourceMonitor } from './monitor.ts';
import { Repository } from './repository.ts';
import type { ReferenceConfig } from './config.ts';

export { alertReceiver, ApiClient, bmcReceiver, dataCollector, Repository, resourceMonitor };
export { startApiStandIn, type ApiStandIn } from './api-stand-in.ts';
export * from './protocol.ts';
export { REFERENCE_KEYS, type ReferenceConfig } from './config.ts';

export function referenceServices(config: HastateConfig & ReferenceConfig, opts: { onAlertsListening?: (a: { host: string; port: number }) => void } = {}): ServiceDefinition[] {
  const r = config.reference;
  const repo = new Repository(r.staleAfterMs);
  const api = new ApiClient({ baseUrl: r.apiUrl, timeoutMs: r.apiTimeoutMs });
  const iface = config.ha.interface;
  return [
    dataCollector({ repo, api, intervalMs: r.collectIntervalMs }),
    resourceMonitor({ repo, group: r.monitor.group, requestPort: r.monitor.requestPort, responsePort: r.monitor.responsePort, interfaceAddress: iface }),
    alertReceiver({
      repo, api, host: r.alerts.host, port: r.alerts.port, maxBodyBytes: r.alerts.maxBodyBytes, retryAfterMs: r.alerts.retryAfterMs,
      keepaliveIntervalMs: r.keepaliveIntervalMs,
      ...(opts.onAlertsListening ? { onListening: opts.onAlertsListening } : {}),
    }),
    bmcReceiver({ repo, group: r.bmc.group, port: r.bmc.port, interfaceAddress: iface }),
  ];
}
