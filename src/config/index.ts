export { loadConfig, parseConfigText, readConfigDocument, parseConfigDocument, renderEffectiveConfig, MAX_FILE_BYTES, MAX_NESTING, MAX_SECTION_DEPTH } from './load.ts';
export type { LoadOptions, LoadedConfig } from './load.ts';
export { defineConfigKeys, keyTypes, MAX_APP_KEYS } from './app-keys.ts';
export type { AppKeys, AppConfigOf, KeyDeclaration, KeyType } from './app-keys.ts';
export type { CrossCheck } from './cross-checks.ts';
export { CONFIG_KEYS, LOG_LEVELS, ROLES, MAX_SECONDS, MAX_NODE_ID_BYTES } from './schema.ts';
export type { HastateConfig, LogLevel, Role } from './schema.ts';
