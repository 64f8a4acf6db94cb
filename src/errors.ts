/**
 * Error classes with stable codes. Callers match on `code`, never on message text,
 * so messages may be improved without breaking anyone. docs/errors.md lists every code with
 * where it is thrown; test/errors.test.ts keeps that list, this type and src/ in step.
 */
export type HastateErrorCode =
  /** A configuration source (file, env, object) has problems; ConfigError lists each with its place. */
  | 'HASTATE_CONFIG_INVALID'
  /** An application's defineConfigKeys declaration is wrong (a programming error, not bad input). */
  | 'HASTATE_CONFIG_SCHEMA'
  /** The command line is wrong (unknown command or option, bad option value, missing argument). */
  | 'HASTATE_CLI_USAGE'
  /** A network exchange with the coordination backend or a multicast group failed. */
  | 'HASTATE_TRANSPORT'
  /** The status endpoint cannot listen on status.host:status.port (address in use, not local, no permission). */
  | 'HASTATE_STATUS_LISTEN'
  /** `hastate status` / `resign` got no valid answer from the node's status endpoint (refused, HTTP error, not JSON). */
  | 'HASTATE_STATUS_UNREACHABLE'
  /** The status endpoint refused the request's bearer token (HTTP 401 or 403). */
  | 'HASTATE_STATUS_UNAUTHORIZED'
  /** The reason a service's primary signal is aborted: the node is not, or no longer, primary. */
  | 'HASTATE_NOT_PRIMARY'
  /** The epoch state file cannot be read, written or synced (permissions, I/O error, full disk). */
  | 'HASTATE_EPOCH_STORE_IO'
  /** The epoch state file exists but is not a valid record for this node (bad JSON, version, checksum, node id). */
  | 'HASTATE_EPOCH_STORE_CORRUPT'
  /** Another live process holds the lock on this node's epoch state file. */
  | 'HASTATE_EPOCH_STORE_LOCKED'
  /** The reference application's inventory API exchange failed (HTTP error, timeout, malformed answer). */
  | 'HASTATE_REFERENCE_API'
  /** Code calling a hastate API broke its contract (src/assert.ts apiMisuse; a RangeError/TypeError/Error). */
  | 'HASTATE_API_MISUSE'
  /** hastate broke one of its own invariants: a bug in hastate (src/assert.ts internalBug). */
  | 'HASTATE_INTERNAL';

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
