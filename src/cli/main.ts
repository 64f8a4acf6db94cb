#!/usr/bin/env node
/**
 * The `hastate` command. Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad
 * config (nothing was started), 3 status endpoint unreachable, 4 status endpoint refused the
 * credential (resign without a token, or a wrong one), 5 farewell refused (the node's process
 * still holds its state file).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, HastateError } from '../errors.ts';
import { loadConfig, renderEffectiveConfig } from '../config/index.ts';
import { VERSION } from '../runtime/version.ts';
import { runFarewell } from './farewell-command.ts';
import { fetchStatus, formatStatus, requestResign } from './status-command.ts';
import { readTokenFile } from '../config/status-token.ts';
import { CONFIG_OPTIONS, CONFIG_USAGE, configFileOf, configLoadOptions } from './config-options.ts';
import { REFERENCE_KEYS } from '../reference/config.ts';

const USAGE = `Usage: hastate <command> [options]

Commands:
  run [--config FILE [--section PATH] [--app-sections LIST]] [--inspect | --inspect-url WS_URL] [--supervise]
                                   run one HA node until SIGINT/SIGTERM (defaults when no file);
                                   SIGTERM on a primary hands over to the best standby first;
                                   --supervise: run it as a child, and when it dies abnormally
                                   send its farewell and restart it (hosts without systemd)
  farewell [--config FILE [--section PATH] [--app-sections LIST]]
                                   after the node's process died (kill -9, OOM, crash): send
                                   its leaving declaration, so the best standby takes over at
                                   once; refused (exit 5) while the process still runs
  resign [--url URL] [--config FILE [--section PATH]] [--token-file FILE]
                                   ask a running primary to hand over to the best standby now;
                                   sends the token from --token-file, else from the config's
                                   status.token_file / status.token_env
  validate FILE [--section PATH] [--app-sections LIST]
                                   check a config file and print the effective configuration
  status [--url URL | --config FILE [--section PATH]] [--json] [--timeout-ms N]
                                   show a running node's status (default http://127.0.0.1:9990)
  help, --help                     show this text
  version, --version               print the version

Options:
  --config FILE         also taken from HASTATE_CONFIG; HASTATE_* variables override keys;
                        .yaml/.yml, or .json/.jsonc (// and /* */ comments allowed)
${CONFIG_USAGE}
  --log FORMAT          run: json | human (default: human on a terminal, json otherwise)
`;

class UsageError extends HastateError {
  constructor(message: string) {
    super('HASTATE_CLI_USAGE', message);
  }
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    case 'version':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'run': {
      const { values } = parse(rest, { ...CONFIG_OPTIONS, log: { type: 'string' }, inspect: { type: 'boolean' }, 'inspect-url': { type: 'string' }, supervise: { type: 'boolean' } });
      const log = values.log as string | undefined;
      if (log !== undefined && log !== 'json' && log !== 'human') throw new UsageError(`--log must be json or human, got ${JSON.stringify(log)}`);
      const config = loadConfig(configLoadOptions(values, configFileOf(values)));
      if (values.supervise) {
        // The child is this same command line without --supervise, run by the same node with the same flags.
        const args = [...process.execArgv, process.argv[1]!, 'run', ...rest.filter((a) => a !== '--supervise')];
        const { createLogger } = await import('../runtime/log.ts');
        const logger = createLogger({ level: config.log.level, ...(log === undefined ? {} : { human: log === 'human' }) });
        const { supervise } = await import('./supervise.ts');
        return supervise({ config, log: logger, command: process.execPath, args });
      }
      const inspectUrl = values['inspect-url'] as string | undefined;
      const inspect = values.inspect || inspectUrl !== undefined ? await (await import('./inspect.ts')).loadInspector(inspectUrl) : undefined;
      // The node (xstate, the backends, metrics) loads only for `run`: farewell, validate and
      // status stay quick to start, which the farewell hook's failover time depends on.
      const { runNode } = await import('./run-command.ts');
      return runNode(config, { human: log === undefined ? undefined : log === 'human', inspect });
    }
    case 'farewell': {
      const { values } = parse(rest, CONFIG_OPTIONS);
      return runFarewell(loadConfig(configLoadOptions(values, configFileOf(values))));
    }
    case 'validate': {
      const { values, positionals } = parse(rest, { section: CONFIG_OPTIONS.section, 'app-sections': CONFIG_OPTIONS['app-sections'] }, 1);
      const file = positionals[0];
      if (file === undefined) throw new UsageError('validate needs a FILE');
      const config = loadConfig(configLoadOptions(values, file));
      const where = values.section === undefined ? file : `${file} (section ${String(values.section)})`;
      process.stdout.write(`# ${where}: valid. Effective configuration (defaults and HASTATE_* overrides applied):\n`);
      process.stdout.write(renderEffectiveConfig(config, REFERENCE_KEYS));
      return 0;
    }
    case 'resign': {
      const { values } = parse(rest, { url: { type: 'string' }, ...CONFIG_OPTIONS, 'token-file': { type: 'string' } });
      let url = values.url as string | undefined;
      const tokenFile = values['token-file'] as string | undefined;
      let token: string | null = null;
      // The config gives the URL when --url is absent, and the token when --token-file is absent.
      const configFile = (values.config as string | undefined) ?? (url === undefined ? process.env.HASTATE_CONFIG : undefined);
      if (url === undefined || configFile !== undefined) {
        const config = loadConfig(configLoadOptions(values, configFile));
        url ??= `http://${config.status.host}:${config.status.port}`;
        token = config.status.token;
      }
      if (tokenFile !== undefined) {
        const read = readTokenFile(tokenFile);
        if (!read.ok) throw new UsageError(`--token-file: ${read.message}`);
        token = read.token;
      }
      const result = await requestResign(url, 2_000, token);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    case 'status': {
      const { values } = parse(rest, { url: { type: 'string' }, ...CONFIG_OPTIONS, json: { type: 'boolean' }, 'timeout-ms': { type: 'string' } });
      const timeoutText = values['timeout-ms'] as string | undefined;
      const timeoutMs = timeoutText === undefined ? 2000 : Number(timeoutText);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new UsageError(`--timeout-ms must be an integer from 1 to 60000, got ${JSON.stringify(timeoutText)}`);
      let url = values.url as string | undefined;
      if (url === undefined) {
        const config = loadConfig(configLoadOptions(values, configFileOf(values)));
        url = `http://${config.status.host}:${config.status.port}`;
      }
      const status = await fetchStatus(url, timeoutMs);
      process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/**
 * A reader that stops early (`hastate validate FILE | head -1`) closes the pipe: that is the
 * reader's choice, not a failure, so a one-shot command ends quietly with the code it would
 * have had. `run` is left alone: its stdout is the log, and a node must not stop because
 * someone stopped reading it (pino reports its own write errors).
 */
if (process.argv[2] !== 'run') {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`hastate: invalid configuration (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}):\n${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof HastateError && error.code === 'HASTATE_CLI_USAGE') {
      process.stderr.write(`hastate: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof HastateError && error.code === 'HASTATE_STATUS_UNAUTHORIZED') {
      process.stderr.write(`hastate: ${error.message}\n`);
      process.exitCode = 4;
    } else if (error instanceof HastateError && error.code === 'HASTATE_STATUS_UNREACHABLE') {
      process.stderr.write(`hastate: ${error.message}\n`);
      process.exitCode = 3;
    } else {
      process.stderr.write(`hastate: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
