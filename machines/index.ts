export * from './role.machine.ts';
export { serviceMachine, restartDelayMs } from './service.machine.ts';
export type { ServiceInput, ServiceEvent, ServiceContext, RunnerInput } from './service.machine.ts';
export { compareRank, outranks, best, ipv4ToNumber } from './rank.ts';
export type { Rankable } from './rank.ts';
