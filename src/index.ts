/**
 * hastate: primary/standby high availability for Node.js services.
 *
 * Guarantees (multicast backend): nodes that hear each other agree on one primary, chosen by
 * priority and then the lowest IPv4 node id; a standby takes over after `timeout` of silence
 * from the primary; two primaries that meet resolve within one heartbeat interval, and the
 * survivor's epoch is above anything the yielding side used.
 * Not guaranteed: with two nodes there is no quorum, so a network partition elects a primary
 * on each side until it heals. Fence external writes with the epoch your services receive.
 */
export { HaNode, type NodeOptions, type RoleChange } from './runtime/node.ts';
export { createLogger, type LoggerOptions } from './runtime/log.ts';
export type { NodeStatus, PeerStatus, ServiceStatus } from './runtime/status.ts';
export { defineService, type ServiceDefinition, type ServiceContext, type Role, type RoleTransition } from './services/types.ts';
export { statusService, type StatusServerOptions } from './services/status-server.ts';
export { primaryGate, PRIMARY_HEADER, type PrimaryGate, type PrimaryGateOptions, type GateDecision, type GatePass, type GateRefusal, type RefusalCode } from './services/primary-gate.ts';
export { createEpochFence, fenceHeaders, readFenceHeaders, EPOCH_HEADER, NODE_HEADER, type EpochFence, type FenceStamp, type FenceVerdict } from './services/epoch-fence.ts';
export { leaderJobs, type LeaderJobsOptions, type PeriodicTask, type LeaderInfo, type FollowerInfo, type JobCounters } from './services/jobs.ts';
export { createNotifier, hookFor, type NotifyConfig, type HookResult, type HookKind } from './runtime/notify.ts';
export { loadConfig, parseConfigText, renderEffectiveConfig, CONFIG_KEYS, type HastateConfig, type LoadOptions, type LoadedConfig } from './config/index.ts';
export { defineConfigKeys, keyTypes, readConfigDocument, parseConfigDocument, type AppKeys, type KeyDeclaration, type KeyType, type CrossCheck } from './config/index.ts';
export { HastateError, ConfigError, formatConfigProblem, type ConfigProblem, type HastateErrorCode } from './errors.ts';
export { encodeMessage, decodeMessage, MESSAGE_SIZE, type HaMessage, type DropReason } from './transport/codec.ts';
export { roleMachine, serviceMachine, compareRank, outranks } from '../machines/index.ts';
