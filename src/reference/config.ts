/**
 * The reference application's configuration keys (`reference.*`), declared with
 * defineConfigKeys exactly as a user's application declares its own: hastate's core schema does
 * not know them. The `hastate` CLI loads them next to hastate's keys because the reference
 * application ships with hastate; a program of its own passes them as `appKeys`.
 */
import { defineConfigKeys, keyTypes, type AppConfigOf } from '../config/index.ts';

const keys = {
  'reference.enabled': { type: keyTypes.boolean(), default: false, doc: 'Run the reference application (data collector, resource monitor, alert receiver, BMC receiver) on this node.' },
  'reference.api_url': { type: keyTypes.httpUrl(), default: 'http://127.0.0.1:9400', doc: 'Base URL of the external resource API (npm run api-stand-in serves a stand-in).' },
  'reference.collect_interval_seconds': { type: keyTypes.seconds(), default: 10, doc: 'How often every node, in every role, refreshes boards and stacks from the API.' },
  'reference.api_timeout_seconds': { type: keyTypes.seconds(), default: 2, doc: 'Bound on one API call; a call that takes longer is aborted and counted as failed.' },
  'reference.stale_after_seconds': { type: keyTypes.seconds(), default: 30, doc: 'Repository data older than this is flagged stale in status and in monitor responses.' },
  'reference.keepalive_interval_seconds': { type: keyTypes.seconds(), default: 10, doc: 'How often the primary sends its keep-alive to the API (standbys never do).' },
  'reference.monitor.group': { type: keyTypes.multicastGroup(), default: '224.100.200.17', doc: 'Multicast group of resource-monitor requests and responses.' },
  'reference.monitor.request_port': { type: keyTypes.port(), default: 9101, doc: 'UDP port resource-monitor requests arrive on.' },
  'reference.monitor.response_port': { type: keyTypes.port(), default: 9102, doc: 'UDP port the primary sends resource-monitor responses to.' },
  'reference.alerts.host': { type: keyTypes.host(), default: '127.0.0.1', doc: 'Address the alert receiver listens on.' },
  'reference.alerts.port': { type: keyTypes.port({ zeroForAny: true }), default: 9201, doc: 'TCP port of the alert receiver.' },
  'reference.alerts.max_body_bytes': { type: keyTypes.integer(64, 1048576, { what: 'a size in bytes' }), default: 65536, doc: 'Larger alert bodies are refused with 413.' },
  'reference.alerts.retry_after_seconds': { type: keyTypes.seconds(), default: 1, doc: 'Retry-After a standby or a switching node sends with its 503.' },
  'reference.bmc.group': { type: keyTypes.multicastGroup(), default: '224.100.200.18', doc: 'Multicast group BMC status datagrams arrive on.' },
  'reference.bmc.port': { type: keyTypes.port(), default: 9301, doc: 'UDP port of BMC status datagrams.' },
} as const;

/** Pass as `loadConfig({ appKeys: REFERENCE_KEYS })` to load (and `renderEffectiveConfig`) the reference application's keys. */
export const REFERENCE_KEYS = defineConfigKeys({
  // hastate's own prefix: the variables stay HASTATE_REFERENCE_*, as the application ships with hastate.
  envPrefix: 'HASTATE_',
  keys,
  checks: [
    { key: 'reference.monitor.response_port', differentFrom: 'reference.monitor.request_port', why: 'requests and responses share the group' },
    { key: 'reference.stale_after_seconds', greaterThan: 'reference.collect_interval_seconds', why: 'data would be stale between two refreshes' },
  ],
});

/** The reference application's part of a loaded configuration (`config.reference`). */
export type ReferenceConfig = AppConfigOf<typeof keys>;
