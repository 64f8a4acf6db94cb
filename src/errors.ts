/**
 * Error classes with stable codes. Callers match on `code`, never on message text,
 * so messages may be improved without breaking anyone.
 */
export type HastateErrorCode =
  | 'HASTATE_CONFIG_INVALID'
  /** An application's defineConfigKeys declaration is wrong (a programming error, not bad input). */
  | 'HASTATE_CONFIG_SCHEMA'
  | 'HASTATE_CLI_USAGE'
  | 'HASTATE_TRANSPORT'
  | 'HASTATE_STATUS_UNREACHABLE'
  | 'HASTATE_STATUS_UNAUTHORIZED'
  | 'HASTATE_SERVICE_FAILED'
  /** The epoch state file cannot be read, written or synced (permissions, I/O error, full disk). */
  | 'HASTATE_EPOCH_STORE_IO'
  /** The epoch state file exists but is not a valid record for this node (bad JSON, version, checksum, node id). */
  | 'HASTATE_EPOCH_STORE_CORRUPT'
  /** Another live process holds the lock on this node's epoch state file. */
  | 'HASTATE_EPOCH_STORE_LOCKED';

export class HastateError extends Error {
  readonly code: HastateErrorCode;
  constructor(code: HastateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HastateError';
    this.code = code;
  }
}

/** One problem found in a configuration source, located as precisely as we can. */
export interface ConfigProblem {
  /** File path, `env` for environment variables, or `defaults`. */
  source: string;
  /** 1-based line and column in the file, when the problem maps to a place in it. */
  line?: number;
  column?: number;
  /** Dotted key path as written in the file (`ha.heartbeat.timeout_seconds`), or the env var name. */
  key: string;
  message: string;
}

export function formatConfigProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.source}:${p.line}:${p.column ?? 1}` : p.source;
  return `${where}: ${p.key}: ${p.message}`;
}

export class ConfigError extends HastateError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super('HASTATE_CONFIG_INVALID', problems.map(formatConfigProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
