/**
 * Logging: pino JSON lines, one object per event, for machines and log shippers; a compact
 * human line format when stdout is a terminal. The human format is written here rather than
 * taken from pino-pretty to keep the dependency list to what the project card names.
 */
import pino, { type Logger, type LevelWithSilent } from 'pino';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

export function formatHumanLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = LEVEL_NAMES[record.level as number] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level} ${String(record.msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human lines instead of JSON; default: when stdout is a TTY. */
  human?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const out = opts.destination ?? process.stdout;
  const human = opts.human ?? Boolean((out as NodeJS.WriteStream).isTTY);
  if (!human) return pino({ level: opts.level, base: { pid: process.pid } }, out as pino.DestinationStream);
  const stream = { write: (line: string) => out.write(formatHumanLine(line)) };
  return pino({ level: opts.level, base: undefined }, stream);
}
