/**
 * The options every command that reads a configuration shares: which file, and where hastate's
 * keys sit in it when the file is the application's own (`--section`, `--app-sections`).
 */
import { HastateError } from '../errors.ts';
import type { LoadOptions } from '../config/index.ts';
import { REFERENCE_KEYS } from '../reference/config.ts';

export const CONFIG_OPTIONS = {
  config: { type: 'string' },
  section: { type: 'string' },
  'app-sections': { type: 'string' },
} as const;

export const CONFIG_USAGE = `  --section PATH        hastate's keys are under PATH (e.g. hastate, or services.ha) of an
                        application's config file; the file's other keys are not read
  --app-sections LIST   comma-separated top-level names next to hastate's that belong to the
                        application (not read), or * for every name not within one letter of
                        one of hastate's (ha, status, log, notify, reference)`;

/** The file --config names, else HASTATE_CONFIG. */
export const configFileOf = (values: Record<string, unknown>): string | undefined => (values.config as string | undefined) ?? process.env.HASTATE_CONFIG;

/** Load options from parsed flags and the file to read (undefined = defaults and env only). */
export function configLoadOptions(values: Record<string, unknown>, file: string | undefined): LoadOptions & { appKeys: typeof REFERENCE_KEYS } {
  // The reference application ships with hastate, so the CLI knows its keys (reference.*).
  const opts: LoadOptions & { appKeys: typeof REFERENCE_KEYS } = { appKeys: REFERENCE_KEYS, ...(file === undefined ? {} : { file }) };
  const section = values.section as string | undefined;
  if (section !== undefined) opts.section = section;
  const apps = values['app-sections'] as string | undefined;
  if (apps !== undefined) {
    if (apps.trim() === '') throw new HastateError('HASTATE_CLI_USAGE', '--app-sections needs a comma-separated list of names, or *');
    opts.appSections = apps.trim() === '*' ? '*' : apps.split(',').map((s) => s.trim());
  }
  return opts;
}
