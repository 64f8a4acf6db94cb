import { PACKAGE_JSON } from './package-root.ts';

/** The package version, from package.json (read once) so it cannot drift. */
export const VERSION: string = PACKAGE_JSON.version;
