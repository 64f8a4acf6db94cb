export { loadConfig, parseConfigText, renderEffectiveConfig, MAX_FILE_BYTES, MAX_NESTING } from './load.ts';
export type { LoadOptions } from './load.ts';
export { CONFIG_KEYS, LOG_LEVELS, ROLES, MAX_SECONDS, MAX_NODE_ID_BYTES } from './schema.ts';
export type { HastateConfig, LogLevel, Role } from './schema.ts';
