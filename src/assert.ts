/**
 * Programmer errors, kept apart from the HastateError family on purpose. Bad input from
 * outside (config, files, datagrams, HTTP, CLI arguments) is a condition to handle and gets a
 * HastateError with a stable code; what is thrown here is a bug to fix in the calling code or in
 * hastate itself. These two helpers are the only places in src/ that create plain
 * Error/RangeError/TypeError (test/errors.test.ts checks), and they still carry a code so a
 * caller can tell them apart from everything else. Call sites read `throw apiMisuse(...)`, so
 * the throw stays visible where it happens.
 */
import type { HastateErrorCode } from './errors.ts';

type ProgrammerErrorClass = ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor;
export type ProgrammerError = Error & { code: HastateErrorCode };

function programmerError(Kind: ProgrammerErrorClass, code: HastateErrorCode, message: string): ProgrammerError {
  return Object.assign(new Kind(message), { code });
}

/**
 * A caller broke a documented precondition of a hastate API (an argument out of range, two
 * services with one name, start() twice). The standard class (RangeError for values out of
 * range, TypeError for values of the wrong kind) is kept, as JavaScript APIs do, so callers
 * that check `instanceof RangeError` keep working; the code is HASTATE_API_MISUSE.
 */
export function apiMisuse(message: string, Kind: ProgrammerErrorClass = RangeError): ProgrammerError {
  return programmerError(Kind, 'HASTATE_API_MISUSE', message);
}

/** hastate broke one of its own invariants: reaching this is a bug in hastate (code HASTATE_INTERNAL). */
export function internalBug(message: string): ProgrammerError {
  return programmerError(Error, 'HASTATE_INTERNAL', message);
}
