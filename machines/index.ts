export * from './role.machine.ts';
export { serviceMachine } from './service.machine.ts';
export { restartDelayMs } from './backoff.ts';
export type { ServiceInput, ServiceEvent, ServiceContext, RunnerInput } from './service.machine.ts';
export { compareRank, outranks, best } from './rank.ts';
export { ipv4ToNumber } from './identity.ts';
export type { Rankable } from './rank.ts';
